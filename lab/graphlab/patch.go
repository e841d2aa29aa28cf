package graphlab

import (
	"encoding/json"
	"net/http"
	"strings"
)

// getUser answers GET /v1.0/users/{id} ("Get user"), with $select.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u["id"] == r.PathValue("id") {
			var fields []string
			if v := r.URL.Query().Get("$select"); v != "" {
				fields = append([]string{"id"}, strings.Split(v, ",")...)
			}
			writeJSON(w, http.StatusOK, project(u, fields))
			return
		}
	}
	graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+r.PathValue("id")+"' does not exist.")
}

// patchUser answers PATCH /v1.0/users/{id} ("Update user"): the
// properties in the body replace the user's, a nested object's
// properties one by one; 204 No Content. A user marked "synced" (as
// onPremisesSyncEnabled) refuses its onPremisesExtensionAttributes with
// 400, as Entra ID does for users mastered on-premises.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, _ token) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "the body is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range s.users {
		if u["id"] != r.PathValue("id") {
			continue
		}
		if _, ok := body["onPremisesExtensionAttributes"]; ok && u["onPremisesSyncEnabled"] == true {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
			return
		}
		next := make(map[string]any, len(u))
		for k, v := range u {
			next[k] = v
		}
		for k, v := range body {
			if m, ok := v.(map[string]any); ok {
				old, _ := next[k].(map[string]any)
				merged := map[string]any{}
				for kk, vv := range old {
					merged[kk] = vv
				}
				for kk, vv := range m {
					merged[kk] = vv
				}
				v = merged
			}
			next[k] = v
		}
		s.users[i] = next
		s.version++
		s.changed[r.PathValue("id")] = s.version
		w.WriteHeader(http.StatusNoContent)
		return
	}
	graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+r.PathValue("id")+"' does not exist.")
}

// UserByID returns a copy of the user with this ID, or nil.
func (s *Server) UserByID(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u["id"] == id {
			out := make(map[string]any, len(u))
			for k, v := range u {
				out[k] = v
			}
			return out
		}
	}
	return nil
}
