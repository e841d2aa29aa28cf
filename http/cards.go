package http

// Cards added by hand, and the card test bench.

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

type cardTestRequest struct {
	Steps  []string `json:"steps"` // "op" or "op=arg", in order
	Values []string `json:"values"`
}

type cardTestResult struct {
	Value  string             `json:"value"`
	Steps  []roster.CardTrace `json:"steps"`
	Result string             `json:"result,omitempty"`
	Error  string             `json:"error,omitempty"`
}

// testCards answers POST /api/v1/cards/test, the console's test bench:
// each value, as a reader sends it or the directory holds it, through
// the steps, with every step's output.
func (s *Server) testCards(w http.ResponseWriter, r *http.Request) {
	var req cardTestRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil || len(req.Values) == 0 || len(req.Values) > 100 {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, `send {"steps": ["hex-to-dec", "pad=10"], "values": ["04A1B2C3"]} as JSON, with 1 to 100 values`))
		return
	}
	var p roster.CardPipeline
	for _, st := range req.Steps {
		if strings.TrimSpace(st) == "" {
			continue
		}
		step, err := roster.ParseCardStep(st)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p = append(p, step)
	}
	if err := p.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]cardTestResult, 0, len(req.Values))
	for _, v := range req.Values {
		res := cardTestResult{Value: v, Steps: p.Trace(v)}
		if final, err := p.Apply(v); err != nil {
			res.Error = roster.ErrorMessage(err)
		} else {
			res.Result = final
		}
		out = append(out, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

type cardRequest struct {
	Number    string          `json:"number"`
	Kind      roster.CardKind `json:"kind,omitempty"` // primary, secondary, temporary
	ExpiresAt time.Time       `json:"expires_at,omitzero"`
}

// addCard answers POST /api/v1/users/{login}/cards: a card added by hand,
// which every sync keeps. A temporary card needs its expiry.
func (s *Server) addCard(w http.ResponseWriter, r *http.Request) {
	var req cardRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&req); err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, `send {"number": "…", "kind": "temporary", "expires_at": "2026-12-31T18:00:00Z"} as JSON`))
		return
	}
	req.Number = strings.TrimSpace(req.Number)
	if err := roster.CheckText("card number", req.Number); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch req.Kind {
	case "":
		req.Kind = roster.CardSecondary
	case roster.CardPrimary, roster.CardSecondary, roster.CardTemporary:
	default:
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "the kind of a card is primary, secondary or temporary, not %q", req.Kind))
		return
	}
	if req.Kind == roster.CardTemporary && req.ExpiresAt.IsZero() {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "a temporary card needs its expires_at"))
		return
	}
	if !req.ExpiresAt.IsZero() && !req.ExpiresAt.After(s.Now()) {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "expires_at %s has passed", req.ExpiresAt.Format(time.RFC3339)))
		return
	}
	u, err := s.pathUser(r)
	if err == nil {
		err = s.users.AddCard(r.Context(), u.ID, roster.Card{Number: req.Number, Kind: req.Kind, ExpiresAt: req.ExpiresAt})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("card added", "user", u.Login, "card", maskCard(req.Number), "kind", req.Kind, "by", who(r).name())
	if u, err = s.users.UserByID(r.Context(), u.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"login": u.Login, "cards": u.Cards}
	if req.Kind == roster.CardPrimary {
		s.writeBack(r, u, roster.WriteCard, req.Number, out)
	}
	writeJSON(w, http.StatusCreated, out)
}

// removeCard answers DELETE /api/v1/users/{login}/cards/{number}.
func (s *Server) removeCard(w http.ResponseWriter, r *http.Request) {
	u, err := s.pathUser(r)
	if err == nil {
		err = s.users.RemoveCard(r.Context(), u.ID, r.PathValue("number"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("card removed", "user", u.Login, "card", maskCard(r.PathValue("number")), "by", who(r).name())
	w.WriteHeader(http.StatusNoContent)
}
