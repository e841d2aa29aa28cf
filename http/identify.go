package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// The terminal API: print terminals and release stations identify the
// person in front of them by badge or print code. Every request is
// logged for audit, without the code; a card number is logged by its
// last four characters only.

// Codes are short: a client that keeps typing wrong ones is slowed down
// before it can walk the code space. A terminal where people mistype now
// and then stays well under the limit.
const (
	codeFailures = 20
	codeWindow   = 5 * time.Minute
)

// Password checks are a bind to the user's directory, which locks an
// account after a few wrong passwords (Entra DS: 5 in 2 minutes). roster
// lets through fewer than that per user, and never retries a bind.
const (
	passwordUserFailures   = 3
	passwordClientFailures = 10
	passwordWindow         = 5 * time.Minute
)

type identifyRequest struct {
	Card     string        `json:"card,omitempty"`
	Code     string        `json:"code,omitempty"`
	Login    string        `json:"login,omitempty"`
	Password roster.Secret `json:"password,omitempty"`
}

// method is the one way of identifying the request asks for, or "".
func (q identifyRequest) method() string {
	var ms []string
	if q.Card != "" {
		ms = append(ms, "card")
	}
	if q.Code != "" {
		ms = append(ms, "code")
	}
	if q.Login != "" || q.Password.IsSet() {
		ms = append(ms, "password")
	}
	if len(ms) != 1 {
		return ""
	}
	return ms[0]
}

// identity is what a terminal learns of a user.
type identity struct {
	Login      string   `json:"login"`
	Name       string   `json:"name"`
	Email      string   `json:"email,omitempty"`
	Department string   `json:"department,omitempty"`
	CostCenter string   `json:"cost_center,omitempty"`
	Groups     []string `json:"groups"`
	Enabled    bool     `json:"enabled"`
}

type identifyResponse struct {
	Method string       `json:"method"`
	User   identity     `json:"user"`
	Card   *roster.Card `json:"card,omitempty"`
}

// identify answers POST /api/v1/identify with {"card": …} or {"code": …}.
// A disabled user, an expired card, and a code that several users share
// are refused (403, 403, 409), so that a terminal never lets in the wrong
// person; an unknown card or code is 404.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) {
	var req identifyRequest
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&req)
	method := req.method()
	if err != nil || method == "" {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, `send exactly one of {"card": "…"}, {"code": "…"} or {"login": "…", "password": "…"} as JSON`))
		return
	}
	audit := []any{"method", method, "client", clientIP(r), "by", who(r).name()}
	if req.Card != "" {
		audit = append(audit, "card", maskCard(req.Card))
	}
	var u *roster.User
	var card *roster.Card
	switch method {
	case "card":
		if u, err = s.Store.UserByCard(r.Context(), strings.TrimSpace(req.Card)); err == nil {
			card = cardOf(u, strings.TrimSpace(req.Card))
		}
	case "code":
		u, err = s.userByCode(r, req.Code)
	case "password":
		// The typed login is not logged: a password typed into the login
		// field would land in the log. The user found is (see below).
		u, err = s.userByPassword(r, req.Login, req.Password)
	}
	if err == nil {
		err = s.mayPass(u, card)
	}
	if err != nil {
		s.Log.Info("identify refused", append(audit, "user", loginOf(u), "reason", roster.ErrorMessage(err))...)
		s.writeError(w, r, err)
		return
	}
	groups, err := s.Store.UserGroups(r.Context(), u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := identifyResponse{Method: method, Card: card, User: identity{Login: u.Login, Name: u.Name, Email: u.Email,
		Department: u.Department, CostCenter: u.CostCenter, Groups: []string{}, Enabled: !u.Disabled}}
	for _, g := range groups {
		resp.User.Groups = append(resp.User.Groups, g.Name)
	}
	s.Log.Info("identify", append(audit, "user", u.Login)...)
	writeJSON(w, http.StatusOK, resp)
}

// userByCode finds the one user with this print code, counting failures
// per client.
func (s *Server) userByCode(r *http.Request, code string) (*roster.User, error) {
	if s.HashCode == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "print codes are not set up on this server")
	}
	key := "code:" + terminalKey(r)
	if wait := s.codeLimiter.blocked(key); wait > 0 {
		return nil, roster.Errorf(roster.ETOOMANY, "too many unknown print codes from this terminal; try again in %s", wait.Round(time.Second))
	}
	users, err := s.Store.UsersByPrintCodeHash(r.Context(), s.HashCode(strings.TrimSpace(code)))
	switch {
	case err != nil:
		return nil, err
	case len(users) == 0:
		s.codeLimiter.fail(key)
		return nil, roster.Errorf(roster.ENOTFOUND, "no user has this print code")
	case len(users) > 1:
		return nil, roster.Errorf(roster.ECONFLICT, "this print code belongs to %d users, so it identifies nobody; give them new codes", len(users))
	}
	return users[0], nil
}

// userByPassword checks a login and password with one bind to the user's
// directory, within the per-user and per-client limits. A disabled user
// is refused before any bind: it would only count against the account.
func (s *Server) userByPassword(r *http.Request, login string, pw roster.Secret) (*roster.User, error) {
	if s.CheckPassword == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "password checks are not set up on this server")
	}
	if login == "" || !pw.IsSet() {
		return nil, roster.Errorf(roster.EINVALID, "give both the login and the password")
	}
	// Counted per terminal (its token, or the admin), and per user found:
	// a user's aliases and login share one count.
	clientKey := "pw-client:" + terminalKey(r)
	if wait := s.pwClientLimiter.blocked(clientKey); wait > 0 {
		return nil, roster.Errorf(roster.ETOOMANY, "too many wrong passwords from this terminal; try again in %s", wait.Round(time.Second))
	}
	u, err := s.Store.UserByLogin(r.Context(), login)
	if err != nil {
		s.pwClientLimiter.fail(clientKey)
		return nil, errWrongLogin()
	}
	userKey := fmt.Sprintf("pw-user:%d", u.ID)
	if wait := s.pwUserLimiter.blocked(userKey); wait > 0 {
		return nil, roster.Errorf(roster.ETOOMANY, "too many wrong passwords for %s; try again in %s (roster stops before the directory would lock the account)", u.Login, wait.Round(time.Second))
	}
	if u.Disabled {
		s.pwClientLimiter.fail(clientKey)
		return u, nil // mayPass refuses it, without a bind
	}
	if err := s.CheckPassword(r.Context(), u, pw); err != nil {
		switch roster.ErrorCode(err) {
		case roster.EUNAUTHORIZED:
			s.pwUserLimiter.fail(userKey)
			s.pwClientLimiter.fail(clientKey)
		case roster.EINVALID: // a user made in roster: no directory to ask
			s.pwClientLimiter.fail(clientKey)
			return nil, errWrongLogin()
		}
		return u, err
	}
	s.pwUserLimiter.reset(userKey)
	return u, nil
}

func errWrongLogin() error { return roster.Errorf(roster.EUNAUTHORIZED, "wrong login or password") }

// terminalKey names the caller for rate limits: its token, else the
// signed-in admin. Not its address: a terminal that changes addresses
// keeps its count.
func terminalKey(r *http.Request) string { return who(r).name() }

// mayPass refuses a disabled user and an expired card.
func (s *Server) mayPass(u *roster.User, card *roster.Card) error {
	if u.Disabled {
		return roster.Errorf(roster.EFORBIDDEN, "%s is disabled (%s)", u.Login, disabledWhy(u.DisabledReason))
	}
	if card != nil && !card.ExpiresAt.IsZero() && !s.Now().Before(card.ExpiresAt) {
		return roster.Errorf(roster.EFORBIDDEN, "the card of %s expired on %s", u.Login, card.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func disabledWhy(r roster.DisabledReason) string {
	switch r {
	case roster.DisabledInDirectory:
		return "disabled or expired in the directory"
	case roster.DisabledMissing:
		return "no longer in the directory"
	case roster.DisabledByAdmin:
		return "disabled by an admin"
	}
	return "disabled"
}

func cardOf(u *roster.User, number string) *roster.Card {
	for i := range u.Cards {
		if u.Cards[i].Number == number {
			return &u.Cards[i]
		}
	}
	return nil
}

func loginOf(u *roster.User) string {
	if u == nil {
		return ""
	}
	return u.Login
}

// maskCard keeps a card number's last four characters, for the audit log.
func maskCard(n string) string {
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

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
	u, err := s.Store.UserByLogin(r.Context(), r.PathValue("login"))
	if err == nil {
		err = s.Store.AddCard(r.Context(), u.ID, roster.Card{Number: req.Number, Kind: req.Kind, ExpiresAt: req.ExpiresAt})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("card added", "user", u.Login, "card", maskCard(req.Number), "kind", req.Kind, "by", who(r).name())
	if u, err = s.Store.UserByID(r.Context(), u.ID); err != nil {
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
	u, err := s.Store.UserByLogin(r.Context(), r.PathValue("login"))
	if err == nil {
		err = s.Store.RemoveCard(r.Context(), u.ID, r.PathValue("number"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("card removed", "user", u.Login, "card", maskCard(r.PathValue("number")), "by", who(r).name())
	w.WriteHeader(http.StatusNoContent)
}
