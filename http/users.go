package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster"
)

// userView is a user as the API shows it: the print code only as set or
// not, never its hash.
type userView struct {
	*roster.User
	PrintCodeSet bool            `json:"print_code_set"`
	Groups       []*roster.Group `json:"groups,omitempty"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := roster.UserFilter{Query: q.Get("q"), Limit: 50}
	if v := q.Get("disabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.writeError(w, r, roster.Errorf(roster.EINVALID, "disabled must be true or false"))
			return
		}
		f.Disabled = &b
	}
	for name, dst := range map[string]*int{"offset": &f.Offset, "limit": &f.Limit} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || name == "limit" && (n == 0 || n > 1000) {
				s.writeError(w, r, roster.Errorf(roster.EINVALID, "%s must be a whole number (limit: 1 to 1000)", name))
				return
			}
			*dst = n
		}
	}
	users, total, err := s.Store.FindUsers(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = userView{User: u, PrintCodeSet: u.PrintCodeHash != ""}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": f.Offset, "users": views})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, groups, err := s.userWithGroups(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userView{User: u, PrintCodeSet: u.PrintCodeHash != "", Groups: groups})
}

// pathUser finds the user of the path's login (or former login): as
// typed, else in lower case, as logins are stored unless the source keeps
// their case.
func (s *Server) pathUser(r *http.Request) (*roster.User, error) {
	login := r.PathValue("login")
	u, err := s.Store.UserByLogin(r.Context(), login)
	if lower := strings.ToLower(login); roster.ErrorCode(err) == roster.ENOTFOUND && lower != login {
		return s.Store.UserByLogin(r.Context(), lower)
	}
	return u, err
}

// userWithGroups finds the user of the path's login and its groups.
func (s *Server) userWithGroups(r *http.Request) (*roster.User, []*roster.Group, error) {
	u, err := s.pathUser(r)
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.Store.UserGroups(r.Context(), u.ID)
	return u, groups, err
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := s.Store.Groups(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": nonNil(groups)})
}
