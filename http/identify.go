package http

import (
	"encoding/json"
	"fmt"
	"net/http"
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
			card = &u.Cards[0] // the card asked for, and only it
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
		return nil, errTooMany(wait, "too many unknown print codes from this terminal; try again in %s", wait.Round(time.Second))
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
	if roster.NormalizeLogin(login) == "" || !pw.IsSet() {
		return nil, roster.Errorf(roster.EINVALID, "give both the login and the password")
	}
	// Counted per terminal (its token, or the admin), and per user found:
	// a user's aliases and login share one count.
	clientKey := "pw-client:" + terminalKey(r)
	if wait := s.pwClientLimiter.blocked(clientKey); wait > 0 {
		return nil, errTooMany(wait, "too many wrong passwords from this terminal; try again in %s", wait.Round(time.Second))
	}
	u, err := s.Store.UserToSignIn(r.Context(), login)
	if roster.ErrorCode(err) == roster.ECONFLICT {
		s.pwClientLimiter.fail(clientKey) // no probing for such logins
		// Which directory to ask is unknown, and asking the wrong one
		// counts against someone else's account: no bind at all.
		s.Log.Warn("a terminal sign-in names users of several sources; no directory was asked", "err", roster.ErrorMessage(err))
		return nil, roster.Errorf(roster.ECONFLICT, "this login belongs to several people in roster; ask an administrator")
	}
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		s.pwClientLimiter.fail(clientKey)
		return nil, errWrongLogin()
	}
	if err != nil {
		return nil, err // the user base did not answer: not the person's fault
	}
	userKey := fmt.Sprintf("pw-user:%d", u.ID)
	if wait := s.pwUserLimiter.blocked(userKey); wait > 0 {
		return nil, errTooMany(wait, "too many wrong passwords for %s; try again in %s (roster stops before the directory would lock the account)", u.Login, wait.Round(time.Second))
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
			s.Log.Info("a terminal sign-in named a user who has no directory to check a password against", "user", u.Login)
			return nil, errWrongLogin()
		}
		return u, err
	}
	s.pwUserLimiter.reset(userKey)
	return u, nil
}

func errWrongLogin() error { return roster.Errorf(roster.EUNAUTHORIZED, "wrong login or password") }

// terminalKey names the caller for rate limits: its token (by ID: two
// tokens may share a name), else the signed-in admin. Not its address: a
// terminal that changes addresses keeps its count.
func terminalKey(r *http.Request) string {
	if p := who(r); p.token != nil {
		return fmt.Sprintf("token:%d", p.token.ID)
	}
	return who(r).name()
}

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
