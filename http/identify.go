package http

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
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

// TerminalStore is what the terminal API needs of the user base: the
// one user that a badge, a print code or a login names, that user's
// groups, and the lockouts of a user's print code and password after
// wrong guesses (roster.LockoutStore, under roster.CodeLockoutKey and
// roster.PasswordLockoutKey). A terminal asks at every badge: the
// lookups by card and by code are one query each, and load nothing the
// answer does not show.
type TerminalStore interface {
	// UserByCard returns the user holding the card number, with that
	// card (its kind, origin and expiry) as its only card; aliases are
	// not loaded. Numbers match exactly, as the source's card transform
	// left them. A disabled user and an expired card are returned too:
	// the caller decides who may pass.
	//
	// Errors: ENOTFOUND when no user holds the card.
	UserByCard(ctx context.Context, number string) (*roster.User, error)

	// UsersByPrintCodeHash returns the users whose print code has this
	// keyed hash, by ID, at most 10, without aliases and cards. It is
	// one user, normally; codes from a directory may repeat, and the
	// caller then refuses rather than pick one. An empty hash matches
	// nobody.
	//
	// Errors: none with a roster code.
	UsersByPrintCodeHash(ctx context.Context, hash string) ([]*roster.User, error)

	// UserToSignIn returns the one user that a login typed at a terminal
	// names, complete with aliases and cards: the user whose current
	// login it is, or else the one whose former login it is, compared as
	// UserStore.UserByLogin compares (trimmed, NFC, case included). A
	// former login of a user disabled as missing yields to any other
	// holder. Unlike UserByLogin, it never chooses between equals: a
	// password checked against the wrong user's directory would count
	// against that account.
	//
	// Errors: ENOTFOUND when no user has or had the login; ECONFLICT
	// when two users hold it alike, both as their login or both as a
	// former one, as users of two sources may (the message names their
	// sources).
	UserToSignIn(ctx context.Context, login string) (*roster.User, error)

	// UserGroups returns the groups of the user's own source that list
	// the user among their members, by name, with Members left empty:
	// none for a user in no group.
	//
	// Errors: ENOTFOUND when no user has the ID.
	UserGroups(ctx context.Context, userID int64) ([]*roster.Group, error)

	roster.LockoutStore
}

type identifyRequest struct {
	Card     string        `json:"card,omitempty"`
	Code     string        `json:"code,omitempty"`
	Login    string        `json:"login,omitempty"`
	Password roster.Secret `json:"password,omitempty"`
}

// The ways of identifying a person at a terminal.
const (
	byCard         = "card"       // a badge alone
	byCode         = "code"       // a print code alone
	byPassword     = "password"   // a login and the directory password
	byLoginAndCode = "login+code" // a login and the user's own print code
	byCardAndCode  = "card+code"  // a badge and its holder's print code
)

// method is the one way of identifying the request asks for, or "".
func (q identifyRequest) method() string {
	card, code, login, pw := q.Card != "", q.Code != "", q.Login != "", q.Password.IsSet()
	switch {
	case pw && !card && !code:
		return byPassword
	case login && code && !card && !pw:
		return byLoginAndCode
	case card && code && !login && !pw:
		return byCardAndCode
	case login && !card && !code && !pw:
		return byPassword // a login without a password: refused as such
	case card && !code && !login && !pw:
		return byCard
	case code && !card && !login && !pw:
		return byCode
	}
	return ""
}

// named reports whether the method names a person (by login or card) and
// then checks a secret of theirs: its refusals must not tell whether the
// person exists, and its wrong secrets count against that person.
func named(method string) bool {
	return method == byPassword || method == byLoginAndCode || method == byCardAndCode
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

// refusal is a terminal's refusal of a named person: the terminal gets
// one answer for every reason (an unknown login, a wrong secret, a
// disabled or locked account), and the log gets the reason.
type refusal struct {
	reason string // for the log
	metric string // for roster_terminal_refusals_total
	user   *roster.User
}

func (r *refusal) Error() string { return r.reason }

func refuse(metric string, u *roster.User, format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...), metric: metric, user: u}
}

// identify answers POST /api/v1/identify. By card or code alone: a
// disabled user, an expired card, and a code that several users share
// are refused (403, 403, 409), so that a terminal never lets in the
// wrong person, and an unknown card or code is 404. By a login or card
// with a secret: every refusal is the same 401, given no sooner than the
// slowest recent check, so that the terminal learns nothing of who
// exists; the log says why.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	var req identifyRequest
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&req)
	method := req.method()
	if err != nil || method == "" {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, `send exactly one of {"card": "…"}, {"code": "…"}, {"login": "…", "password": "…"}, {"login": "…", "code": "…"} or {"card": "…", "code": "…"} as JSON`))
		return
	}
	terminal, name := terminalKey(r), who(r).name()
	audit := []any{"method", method, "client", clientIP(r), "by", name}
	if req.Card != "" {
		audit = append(audit, "card", maskCard(req.Card))
	}
	kind := s.guessKindOf(method)
	if wait, whose := kind.wait(terminal, s.Now()); wait > 0 {
		s.refusals.add("rate_limited")
		s.Log.Warn("identify refused: guessing budget spent", append(audit, "budget", whose, "wait", wait.Round(time.Second).String())...)
		s.writeError(w, r, errTooMany(wait, "too many %s from %s; try again in %s", kind.what, whose, wait.Round(time.Second)))
		return
	}
	var u *roster.User
	var card *roster.Card
	switch method {
	case byCard:
		if u, err = s.term.UserByCard(r.Context(), strings.TrimSpace(req.Card)); err == nil {
			card = &u.Cards[0] // the card asked for, and only it
		} else if roster.ErrorCode(err) == roster.ENOTFOUND {
			s.guessed(kind, terminal, name, "unknown_card")
		}
	case byCode:
		u, err = s.userByCode(r, kind, terminal, name, req.Code)
	case byPassword:
		// The typed login is not logged: a password typed into the login
		// field would land in the log. The user found is (see below).
		u, err = s.userByPassword(r, kind, terminal, name, req.Login, req.Password)
	case byLoginAndCode, byCardAndCode:
		u, card, err = s.userByOwnCode(r, kind, terminal, name, req)
	}
	if err == nil {
		if err = s.mayPass(u, card); err != nil {
			metric := "expired_card"
			if u.Disabled {
				metric = "disabled"
			}
			if named(method) {
				err = refuse(metric, u, "%s", roster.ErrorMessage(err))
			} else {
				s.refusals.add(metric)
			}
		}
	}
	if err != nil {
		s.refuseIdentify(w, r, err, method, started, audit)
		return
	}
	groups, err := s.term.UserGroups(r.Context(), u.ID)
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

// refuseIdentify logs the real reason of a refusal and answers the
// terminal: a named person's refusal as one uniform 401, held until the
// slowest recent check would have answered.
func (s *Server) refuseIdentify(w http.ResponseWriter, r *http.Request, err error, method string, started time.Time, audit []any) {
	var ref *refusal
	if !errors.As(err, &ref) {
		// Counted where it arose: guessed (unknown card or code, shared
		// code) or the mayPass check above.
		s.Log.Info("identify refused", append(audit, "reason", roster.ErrorMessage(err))...)
		s.writeError(w, r, err)
		return
	}
	s.refusals.add(ref.metric)
	s.Log.Info("identify refused", append(audit, "user", loginOf(ref.user), "reason", ref.reason)...)
	s.holdRefusal(r, started)
	what := map[string]string{byPassword: "login or password", byLoginAndCode: "login or print code", byCardAndCode: "card or print code"}[method]
	s.writeError(w, r, roster.Errorf(roster.EUNAUTHORIZED, "wrong %s, or this account may not sign in here now; ask an administrator if it goes on", what))
}

// guessKindOf is the budget a method's wrong guesses spend.
func (s *Server) guessKindOf(method string) *guessKind {
	switch method {
	case byCard:
		return s.cards
	case byCode:
		return s.codes
	}
	return s.secrets
}

// guessed counts a wrong guess from a terminal, and warns when it spent
// a budget: a burst the console shows and the log names.
func (s *Server) guessed(kind *guessKind, terminal, name, reason string) {
	now := s.Now()
	s.refusals.add(reason)
	for _, l := range kind.fail(terminal, name, now) {
		scope := name
		if l.Key == allKey {
			scope = allKey
		}
		s.refusals.burst(burst{At: now, What: kind.what, Terminal: scope, Until: l.Until})
		s.Log.Warn("terminal guessing budget spent: "+kind.what, "terminal", name, "budget", scope,
			"locked_until", l.Until.UTC().Format(time.RFC3339), "lock", l.Wait(now).String())
	}
}

// userByCode finds the one user with this print code.
func (s *Server) userByCode(r *http.Request, kind *guessKind, terminal, name, code string) (*roster.User, error) {
	if s.HashCode == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "print codes are not set up on this server")
	}
	users, err := s.term.UsersByPrintCodeHash(r.Context(), s.HashCode(strings.TrimSpace(code)))
	switch {
	case err != nil:
		return nil, err
	case len(users) == 0:
		s.guessed(kind, terminal, name, "wrong_code")
		return nil, roster.Errorf(roster.ENOTFOUND, "no user has this print code")
	case len(users) > 1:
		// A code that works for several people was still a good guess:
		// it counts, so that finding shared codes costs like any other.
		s.guessed(kind, terminal, name, "shared_code")
		return nil, roster.Errorf(roster.ECONFLICT, "this print code belongs to %d users, so it identifies nobody; give them new codes", len(users))
	}
	return users[0], nil
}

// namedUser finds the person a login or card names; a refusal when there
// is none, or several.
func (s *Server) namedUser(r *http.Request, kind *guessKind, terminal, name string, req identifyRequest) (*roster.User, *roster.Card, error) {
	if req.Card != "" {
		u, err := s.term.UserByCard(r.Context(), strings.TrimSpace(req.Card))
		switch roster.ErrorCode(err) {
		case "":
			return u, &u.Cards[0], nil
		case roster.ENOTFOUND:
			s.guessed(kind, terminal, name, "unknown_card")
			return nil, nil, refuse("unknown_card", nil, "no user holds the card %s", maskCard(req.Card))
		}
		return nil, nil, err
	}
	if roster.NormalizeLogin(req.Login) == "" {
		return nil, nil, roster.Errorf(roster.EINVALID, "give both the login and the %s", map[bool]string{true: "password", false: "print code"}[req.Code == ""])
	}
	u, err := s.term.UserToSignIn(r.Context(), req.Login)
	switch roster.ErrorCode(err) {
	case "":
		return u, nil, nil
	case roster.ECONFLICT:
		// Which directory to ask is unknown, and asking the wrong one
		// counts against someone else's account: no bind at all.
		s.guessed(kind, terminal, name, "wrong_password")
		return nil, nil, refuse("wrong_password", nil, "the login names users of several sources; no directory was asked: %s", roster.ErrorMessage(err))
	case roster.ENOTFOUND:
		s.guessed(kind, terminal, name, "wrong_password")
		return nil, nil, refuse("wrong_password", nil, "no user has this login")
	}
	return nil, nil, err // the user base did not answer: not the person's fault
}

// userLocked refuses a user whose code or password is locked at
// terminals; a refusal like a wrong secret, so a guesser cannot tell
// that the lock is what answers.
func (s *Server) userLocked(r *http.Request, u *roster.User, key, what string) error {
	l, err := s.term.Lockout(r.Context(), key)
	if err != nil {
		return err
	}
	if wait := l.Wait(s.Now()); wait > 0 {
		return refuse("locked", u, "the %s of %s is locked at terminals for %s more, after %d locks in a row of wrong tries; an admin can clear it (roster lockouts clear %s)",
			what, u.Login, wait.Round(time.Second), l.Trips, key)
	}
	return nil
}

// failUser counts a wrong secret against the user, and warns when it
// locks.
func (s *Server) failUser(r *http.Request, u *roster.User, key, what string, p roster.LockoutPolicy) {
	now := s.Now()
	l, err := s.term.FailLockout(r.Context(), key, u.Login, p, now)
	if err != nil {
		s.Log.Error("a wrong "+what+" could not be counted", "user", u.Login, "err", err)
		return
	}
	if l.Wait(now) > 0 && l.Failures == 0 {
		s.Log.Warn("terminal "+what+" locked after wrong tries", "user", u.Login, "locked_until", l.Until.UTC().Format(time.RFC3339), "locks_in_a_row", l.Trips)
	}
}

// userByOwnCode checks the print code of the person a login or card
// names: a wrong one counts against that person, whose code locks at
// every terminal after a few.
func (s *Server) userByOwnCode(r *http.Request, kind *guessKind, terminal, name string, req identifyRequest) (*roster.User, *roster.Card, error) {
	if s.HashCode == nil {
		return nil, nil, roster.Errorf(roster.EUNAVAILABLE, "print codes are not set up on this server")
	}
	u, card, err := s.namedUser(r, kind, terminal, name, req)
	if err != nil {
		return nil, nil, err
	}
	key := roster.CodeLockoutKey(u.ID)
	if err := s.userLocked(r, u, key, "print code"); err != nil {
		return nil, nil, err
	}
	got := s.HashCode(strings.TrimSpace(req.Code))
	if u.PrintCodeHash == "" || subtle.ConstantTimeCompare([]byte(got), []byte(u.PrintCodeHash)) != 1 {
		s.guessed(kind, terminal, name, "wrong_code")
		s.failUser(r, u, key, "print code", userCode)
		return nil, nil, refuse("wrong_code", u, "wrong print code for %s", u.Login)
	}
	if _, err := s.term.ClearLockout(r.Context(), key); err != nil {
		s.Log.Error("a good print code could not clear the count of wrong ones", "user", u.Login, "err", err)
	}
	return u, card, nil
}

// userByPassword checks a login and password with one bind to the user's
// directory. A disabled or locked user is refused before any bind: it
// would only count against the account.
func (s *Server) userByPassword(r *http.Request, kind *guessKind, terminal, name, login string, pw roster.Secret) (*roster.User, error) {
	if s.CheckPassword == nil {
		return nil, roster.Errorf(roster.EUNAVAILABLE, "password checks are not set up on this server")
	}
	if roster.NormalizeLogin(login) == "" || !pw.IsSet() {
		return nil, roster.Errorf(roster.EINVALID, "give both the login and the password")
	}
	u, _, err := s.namedUser(r, kind, terminal, name, identifyRequest{Login: login})
	if err != nil {
		return nil, err
	}
	key := roster.PasswordLockoutKey(u.ID)
	if err := s.userLocked(r, u, key, "password"); err != nil {
		return nil, err
	}
	if u.Disabled {
		s.guessed(kind, terminal, name, "disabled")
		return u, nil // mayPass refuses it, without a bind
	}
	checked := time.Now()
	err = s.CheckPassword(r.Context(), u, pw)
	s.checks.add(time.Since(checked))
	switch roster.ErrorCode(err) {
	case "":
		if _, err := s.term.ClearLockout(r.Context(), key); err != nil {
			s.Log.Error("a good password could not clear the count of wrong ones", "user", u.Login, "err", err)
		}
		return u, nil
	case roster.EUNAUTHORIZED:
		s.guessed(kind, terminal, name, "wrong_password")
		s.failUser(r, u, key, "password", userPassword)
		return nil, refuse("wrong_password", u, "%s", roster.ErrorMessage(err))
	case roster.EINVALID: // a user made in roster: no directory to ask
		s.guessed(kind, terminal, name, "wrong_password")
		return nil, refuse("wrong_password", u, "%s has no directory to check a password against", u.Login)
	}
	return nil, err // the directory did not answer: not the person's fault
}

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
