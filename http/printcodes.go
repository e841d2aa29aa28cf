package http

// Print codes roster makes, and writing them (and cards) back to the
// directory.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rosterhq/roster"
)

type printCodeRequest struct {
	Length int `json:"length,omitempty"`
}

// newPrintCode answers POST /api/v1/users/{login}/print-code: it gives
// the user a new random print code, unique and not trivial, and returns
// it this once; roster keeps only its keyed hash.
func (s *Server) newPrintCode(w http.ResponseWriter, r *http.Request) {
	if s.HashCode == nil {
		s.writeError(w, r, roster.Errorf(roster.EUNAVAILABLE, "print codes are not set up on this server"))
		return
	}
	var req printCodeRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
			s.writeError(w, r, roster.Errorf(roster.EINVALID, `send {"length": 6} as JSON, or nothing`))
			return
		}
	}
	if req.Length == 0 {
		req.Length = roster.DefaultPrintCodeLength
	}
	u, err := s.Store.UserByLogin(r.Context(), r.PathValue("login"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Another admin may take the same code between the check and the
	// write: the store refuses it (ECONFLICT), and a new one is drawn.
	var code string
	for range 5 {
		code, err = roster.GeneratePrintCode(req.Length, func(c string) (bool, error) {
			users, err := s.Store.UsersByPrintCodeHash(r.Context(), s.HashCode(c))
			return len(users) > 0, err
		})
		if err == nil {
			err = s.Store.SetPrintCodeHash(r.Context(), u.ID, s.HashCode(code))
		}
		if roster.ErrorCode(err) != roster.ECONFLICT {
			break
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("print code set", "user", u.Login, "by", who(r).name())
	out := map[string]any{"login": u.Login, "code": code,
		"note": fmt.Sprintf("this code is shown once; roster keeps only its keyed hash. A print code held in the directory for %s replaces it at the next sync.", u.Login)}
	s.writeBack(r, u, roster.WritePrintCode, code, out)
	writeJSON(w, http.StatusOK, out)
}

// writeBack writes a value roster set to the user's directory entry when
// its source asks for it, and says in out where, or why not: the value
// is set in roster either way.
func (s *Server) writeBack(r *http.Request, u *roster.User, field roster.WriteField, value string, out map[string]any) {
	if s.WriteBack == nil {
		return
	}
	attr, err := s.WriteBack.WriteBack(r.Context(), u, field, value)
	switch {
	case err != nil:
		out["write_back_error"] = roster.ErrorMessage(err)
		s.Log.Warn("write-back failed", "user", u.Login, "field", field, "err", roster.ErrorMessage(err))
	case attr != "":
		out["written_to"] = attr
	}
}

// testWrite answers POST /api/v1/sources/{id}/write-test: may the
// source's account write its write-back attributes? Nothing changes.
func (s *Server) testWrite(w http.ResponseWriter, r *http.Request) {
	if s.WriteBack == nil {
		s.writeError(w, r, roster.Errorf(roster.EUNAVAILABLE, "write-back is not set up on this server"))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "%q is not a source ID", r.PathValue("id")))
		return
	}
	t, err := s.WriteBack.TestWrite(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
