package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster"
)

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.auth.Tokens(r.Context())
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
	t, err := s.auth.CreateToken(r.Context(), req.Name, HashSecret(secret), req.Scope)
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
	if err := s.auth.RevokeToken(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("API token revoked", "id", id, "admin", who(r).admin.Name)
	w.WriteHeader(http.StatusNoContent)
}
