package graphlab

import (
	"net/http"
	"slices"
)

// Group is a group of the tenant: its members are user and group IDs
// (nested groups), as Graph's members relationship holds them.
type Group struct {
	ID, Name string
	Members  []string
}

// SetGroups replaces the tenant's groups.
func (s *Server) SetGroups(groups []Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = slices.Clone(groups)
}

// listGroups answers GET /v1.0/groups ("List groups").
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ token) {
	s.mu.Lock()
	all := make([]map[string]any, len(s.groups))
	for i, g := range s.groups {
		all[i] = map[string]any{"id": g.ID, "displayName": g.Name, "@odata.type": "#microsoft.graph.group", "securityEnabled": true, "groupTypes": []string{}}
	}
	s.mu.Unlock()
	servePage(w, r, s.URL, all)
}

// transitiveMembers answers GET /v1.0/groups/{id}/transitiveMembers
// ("List group transitive members"): every member through nesting, the
// nested groups themselves included, each once, cycles or not, typed
// by @odata.type.
func (s *Server) transitiveMembers(w http.ResponseWriter, r *http.Request, _ token) {
	s.mu.Lock()
	byID := map[string]Group{}
	for _, g := range s.groups {
		byID[g.ID] = g
	}
	users := map[string]bool{}
	for _, u := range s.users {
		users[u["id"].(string)] = true
	}
	root, ok := byID[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+r.PathValue("id")+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	var out []map[string]any
	seen := map[string]bool{root.ID: true}
	queue := slices.Clone(root.Members)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		switch g, isGroup := byID[id]; {
		case isGroup:
			out = append(out, map[string]any{"id": id, "@odata.type": "#microsoft.graph.group", "displayName": g.Name})
			queue = append(queue, g.Members...)
		case users[id]:
			out = append(out, map[string]any{"id": id, "@odata.type": "#microsoft.graph.user"})
		default: // a device, say: members are not only users
			out = append(out, map[string]any{"id": id, "@odata.type": "#microsoft.graph.device"})
		}
	}
	servePage(w, r, s.URL, out)
}
