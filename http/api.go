package http

import (
	"encoding/json"
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

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, roster.Errorf(roster.EINVALID, "limit must be 1 to 1000"))
			return
		}
		limit = n
	}
	runs, err := s.Store.Runs(r.Context(), 0, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": nonNil(runs)})
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "%q is not a run ID", r.PathValue("id")))
		return
	}
	run, err := s.Store.Run(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.Store.Tokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": nonNil(tokens)})
}

type tokenRequest struct {
	Name  string       `json:"name"`
	Scope roster.Scope `json:"scope"`
}

// createToken makes an API token and returns its secret, this once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<14)).Decode(&req); err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "send {\"name\": ..., \"scope\": \"read\", \"admin\" or \"terminal\"} as JSON"))
		return
	}
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 100 {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "give the token a name of 1 to 100 characters, saying who uses it"))
		return
	}
	if err := roster.CheckText("token name", req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Scope != roster.ScopeRead && req.Scope != roster.ScopeAdmin && req.Scope != roster.ScopeTerminal {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "the scope must be read, admin, or terminal (print terminals: identify users, nothing else)"))
		return
	}
	secret := tokenPrefix + NewSecret()
	t, err := s.Store.CreateToken(r.Context(), req.Name, HashSecret(secret), req.Scope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("API token created", "token", t.Name, "scope", t.Scope, "admin", who(r).admin.Name)
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret,
		"note": "this secret is shown once; roster keeps only its hash"})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "%q is not a token ID", r.PathValue("id")))
		return
	}
	if err := s.Store.RevokeToken(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("API token revoked", "id", id, "admin", who(r).admin.Name)
	w.WriteHeader(http.StatusNoContent)
}

func itoa(n int) string { return strconv.Itoa(n) }

// nonNil makes an empty list marshal as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
