package http

// Print codes roster makes, and writing them (and cards) back to the
// directory.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/rosterhq/roster"
)

type printCodeRequest struct {
	Length int `json:"length,omitempty"`
}

// codeLength reads the digits asked for in {"length": N}, or the default
// when the body is empty. AssignPrintCode checks the range.
func codeLength(w http.ResponseWriter, r *http.Request) (int, error) {
	var req printCodeRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil {
			return 0, roster.Errorf(roster.EINVALID, `send {"length": 6} as JSON, or nothing`)
		}
	}
	if req.Length == 0 {
		return roster.DefaultPrintCodeLength, nil
	}
	return req.Length, nil
}

// newPrintCode answers POST /api/v1/users/{login}/print-code: it gives
// the user a new random print code, unique and not trivial, and returns
// it this once; roster keeps only its keyed hash.
func (s *Server) newPrintCode(w http.ResponseWriter, r *http.Request) {
	if s.HashCode == nil {
		s.writeError(w, r, roster.Errorf(roster.EUNAVAILABLE, "print codes are not set up on this server"))
		return
	}
	length, err := codeLength(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.pathUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code, err := roster.AssignPrintCode(r.Context(), s.users, s.HashCode, u.ID, length)
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
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.WriteBack.TestWrite(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// issuedCode is one code a bulk generation made, shown this once.
type issuedCode struct {
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Code  string `json:"code"`
}

// newPrintCodes answers POST /api/v1/sources/{id}/print-codes: every
// enabled user of the source without a print code gets one, and the
// answer lists them this once, for the admin to hand out (a mail merge).
// Users who have a code keep it; running it again gives codes only to
// users still without one. Nothing is written back to the directory: with
// write-back on, the answer says so.
func (s *Server) newPrintCodes(w http.ResponseWriter, r *http.Request) {
	if s.HashCode == nil {
		s.writeError(w, r, roster.Errorf(roster.EUNAVAILABLE, "print codes are not set up on this server"))
		return
	}
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	length, err := codeLength(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	src, err := s.Sources.Source(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.users.UsersWithoutPrintCode(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Every code set is answered, even when the admin's browser gives up
	// meanwhile: a code set and never shown would have to be made again.
	ctx := context.WithoutCancel(r.Context())
	issued := []issuedCode{}
	skipped, err := roster.AssignFirstPrintCodes(ctx, s.users, s.HashCode, users, length, func(set []roster.IssuedPrintCode) error {
		for _, c := range set {
			issued = append(issued, issuedCode{Login: c.User.Login, Name: c.User.Name, Email: c.User.Email, Code: c.Code})
		}
		return nil
	})
	if err != nil {
		s.Log.Warn("print codes set in bulk, then stopped", "source", src.Name, "set", len(issued), "skipped", len(skipped), "by", who(r).name(), "err", roster.ErrorMessage(err))
		status, body := s.errorAnswer(r, err)
		writeJSON(w, status, map[string]any{"error": body.Error,
			"source": src.Name, "generated": len(issued), "codes": issued,
			"note": "the codes listed were set before the error and are shown this once; the other users still have none"})
		return
	}
	// The users skipped got a code meanwhile (another admin, a sync), or
	// were deleted.
	s.Log.Info("print codes set in bulk", "source", src.Name, "set", len(issued), "skipped", len(skipped), "by", who(r).name())
	out := map[string]any{"source": src.Name, "generated": len(issued), "codes": issued,
		"note": "these codes are shown once; roster keeps only their keyed hashes. Users who had a code kept it."}
	if src.WriteBack.PrintCode != "" {
		out["write_back"] = fmt.Sprintf("not written to %s: codes made in bulk stay in roster; a code the directory holds replaces roster's at the next sync", src.WriteBack.PrintCode)
	}
	writeJSON(w, http.StatusOK, out)
}
