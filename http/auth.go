package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rosterhq/roster"
)

// AuthStore is what sign-in, sessions and API tokens need of the user
// base: the console's admins and their sessions, the tokens that
// scripts and print terminals present, and the lockout of an admin name
// after failed sign-ins (roster.LockoutStore, under
// roster.AdminLockoutKey). Session IDs and token secrets reach it only
// as their hashes (HashSecret), so that a copy of the database opens
// nothing.
type AuthStore interface {
	// AdminByName returns the admin with this name, compared exactly as
	// stored, and the admin's bcrypt password hash.
	//
	// Errors: ENOTFOUND when no admin has the name.
	AdminByName(ctx context.Context, name string) (*roster.Admin, string, error)

	// SetAdminPassword replaces the password hash of the admin adminID
	// and, in the same transaction, ends every session of that admin but
	// the one stored under keepSessionHash: the one that made the change.
	// An adminID that names no admin changes nothing.
	//
	// Errors: none with a roster code.
	SetAdminPassword(ctx context.Context, adminID int64, passwordHash, keepSessionHash string) error

	// CreateSession stores a session of the admin adminID under idHash,
	// the hash of its ID, with its CSRF token, live until expires.
	//
	// Errors: none with a roster code (an idHash stored already fails
	// as the database's error).
	CreateSession(ctx context.Context, idHash string, adminID int64, csrf string, expires time.Time) error

	// Session returns the admin of the session stored under idHash, and
	// the session's CSRF token, while the session is live: until its
	// expiry, by the store's clock.
	//
	// Errors: ENOTFOUND when no session is stored under idHash, or it
	// has expired.
	Session(ctx context.Context, idHash string) (*roster.Admin, string, error)

	// DeleteSession ends the session stored under idHash, and with it
	// every session past its expiry. Ending a session that does not
	// exist is not an error.
	//
	// Errors: none with a roster code.
	DeleteSession(ctx context.Context, idHash string) error

	// CreateToken stores a new API token, named name and of scope, under
	// secretHash, the hash of its secret, and returns it with its ID and
	// creation time. Names need not be unique. The caller checks the
	// name and the scope: the store refuses an unknown scope only as
	// the database's error.
	//
	// Errors: none with a roster code (a secretHash stored already
	// fails as the database's error).
	CreateToken(ctx context.Context, name, secretHash string, scope roster.Scope) (*roster.Token, error)

	// TokenBySecretHash returns the live (not revoked) token stored
	// under secretHash, and notes its use: in the background, best
	// effort, at most once a minute per token, so that a terminal
	// calling many times a second does not write at every call. The
	// token's LastUsedAt is the use noted before.
	//
	// Errors: ENOTFOUND when no token has the hash, or it is revoked.
	TokenBySecretHash(ctx context.Context, secretHash string) (*roster.Token, error)

	// Tokens lists every token, revoked ones included, newest first.
	//
	// Errors: none with a roster code.
	Tokens(ctx context.Context) ([]*roster.Token, error)

	// RevokeToken revokes the token id at once: TokenBySecretHash no
	// longer finds it, and Tokens shows when it was revoked.
	//
	// Errors: ENOTFOUND when no live token has the ID (a revoked one
	// included).
	RevokeToken(ctx context.Context, id int64) error

	roster.LockoutStore
}

const (
	sessionCookie = "roster_session"
	csrfHeader    = "X-CSRF-Token"
	// MinPasswordLength is the shortest admin password roster accepts.
	MinPasswordLength = 12
)

// BcryptCost is the work factor of admin password hashes. Tests lower it.
var BcryptCost = 12

// principal is who a request comes from: an admin with a session, or a
// token.
type principal struct {
	admin     *roster.Admin
	token     *roster.Token
	sessionID string // hash of the session ID, for a session
	csrf      string
}

// name says who the principal is, for the audit log: the admin's name,
// or the token's.
func (p *principal) name() string {
	switch {
	case p == nil:
		return ""
	case p.admin != nil:
		return "admin " + p.admin.Name
	case p.token != nil:
		return "token " + p.token.Name
	}
	return ""
}

// HashPassword hashes an admin password with bcrypt.
func HashPassword(pw roster.Secret) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw.Reveal()), BcryptCost)
	return string(h), err
}

// NewSecret returns 32 random bytes, URL-safe base64: session IDs, CSRF
// tokens and API token secrets.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how session IDs and token secrets are stored: a copy of
// the database opens nothing. They are random, so SHA-256 suffices.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tokenPrefix marks roster's API tokens, so secret scanners can find them.
const tokenPrefix = "roster_"

// authenticate finds the caller: a bearer token, else a session cookie.
// Errors: EUNAUTHORIZED.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(secret, tokenPrefix) {
			return nil, roster.Errorf(roster.EUNAUTHORIZED, "the Authorization header must be: Bearer <roster API token>")
		}
		t, err := s.auth.TokenBySecretHash(r.Context(), HashSecret(secret))
		if err != nil {
			return nil, roster.Errorf(roster.EUNAUTHORIZED, "the API token is unknown or revoked; make a new one in the console")
		}
		return &principal{token: t}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "sign in first, or send an API token as Authorization: Bearer <token>")
	}
	id := HashSecret(c.Value)
	admin, csrf, err := s.auth.Session(r.Context(), id)
	if err != nil {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the session has ended; sign in again")
	}
	return &principal{admin: admin, sessionID: id, csrf: csrf}, nil
}

// checkCSRF refuses a state-changing request made with a session cookie
// unless it carries the session's CSRF token: a page of another site
// can make the browser send the cookie, but cannot read the token.
func checkCSRF(r *http.Request, p *principal) error {
	if p.admin == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.csrf)) != 1 {
		return roster.Errorf(roster.EFORBIDDEN, "the request lacks the session's CSRF token (header %s); reload the console", csrfHeader)
	}
	return nil
}

type ctxKey struct{}

func who(r *http.Request) *principal { return r.Context().Value(ctxKey{}).(*principal) }

// read admits any signed-in admin or token to GET routes; writes need
// an admin session or an admin-scope token.
func (s *Server) read(h http.HandlerFunc) http.HandlerFunc {
	return s.guard(h, func(p *principal, r *http.Request) error {
		if p.token != nil && p.token.Scope == roster.ScopeTerminal {
			return errTerminalOnly(p.token)
		}
		if p.token != nil && p.token.Scope != roster.ScopeAdmin && r.Method != http.MethodGet {
			return roster.Errorf(roster.EFORBIDDEN, "the API token %s is read-only", p.token.Name)
		}
		return nil
	})
}

// write admits an admin session or an admin-scope token: test, preview
// and sync use the bind password, so a read-only token may not.
func (s *Server) write(h http.HandlerFunc) http.HandlerFunc {
	return s.guard(h, func(p *principal, r *http.Request) error {
		if p.token != nil && p.token.Scope == roster.ScopeTerminal {
			return errTerminalOnly(p.token)
		}
		if p.token != nil && p.token.Scope != roster.ScopeAdmin {
			return roster.Errorf(roster.EFORBIDDEN, "the API token %s is read-only; this needs an admin token", p.token.Name)
		}
		return nil
	})
}

// terminal admits terminal and admin tokens, and signed-in admins (the
// console's test of a card or code): the identify calls.
func (s *Server) terminal(h http.HandlerFunc) http.HandlerFunc {
	return s.guard(h, func(p *principal, r *http.Request) error {
		if p.token != nil && p.token.Scope == roster.ScopeRead {
			return roster.Errorf(roster.EFORBIDDEN, "the API token %s is read-only; identifying users needs a terminal token", p.token.Name)
		}
		return nil
	})
}

func errTerminalOnly(t *roster.Token) error {
	return roster.Errorf(roster.EFORBIDDEN, "the API token %s is a terminal token: it may only identify users (POST /api/v1/identify)", t.Name)
}

// session admits admins signed in to the console only: tokens cannot
// manage tokens or passwords.
func (s *Server) session(h http.HandlerFunc) http.HandlerFunc {
	return s.guard(h, func(p *principal, r *http.Request) error {
		if p.admin == nil {
			return roster.Errorf(roster.EFORBIDDEN, "this needs an admin signed in to the console, not an API token")
		}
		return nil
	})
}

func (s *Server) guard(h http.HandlerFunc, allow func(*principal, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err == nil {
			err = allow(p, r)
		}
		if err == nil {
			err = checkCSRF(r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	}
}

type loginRequest struct {
	Name     string        `json:"name"`
	Password roster.Secret `json:"password"`
}

// login checks an admin's password and opens a session. Failures are
// limited per client and per name (see limiter), and the answer never
// says whether the name exists.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	// A form on another site can post to this endpoint but cannot send
	// JSON without a preflight, and browsers say where a request comes
	// from: refuse both, against sign-in forgery.
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "send the sign-in as application/json"))
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		s.writeError(w, r, roster.Errorf(roster.EFORBIDDEN, "sign-ins from other sites are refused"))
		return
	}
	var req loginRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<14)).Decode(&req); err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "send {\"name\": ..., \"password\": ...} as JSON"))
		return
	}
	// Failures count per client address, and per admin name from any
	// address (a stored lockout, which `roster lockouts` shows and
	// clears).
	if err := s.signInWait(r, req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	admin, hash, err := s.auth.AdminByName(r.Context(), req.Name)
	if err != nil && roster.ErrorCode(err) != roster.ENOTFOUND {
		s.writeError(w, r, err)
		return
	}
	if admin == nil {
		hash = dummyHash() // spend the same time as for a real name
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password.Reveal())) != nil || admin == nil {
		s.signInFailed(r, admin)
		s.writeError(w, r, roster.Errorf(roster.EUNAUTHORIZED, "wrong name or password"))
		return
	}
	s.signInSucceeded(r, admin)
	id, csrf := NewSecret(), NewSecret()
	if err := s.auth.CreateSession(r.Context(), HashSecret(id), admin.ID, csrf, s.Now().Add(SessionLifetime)); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: s.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: int(SessionLifetime.Seconds())})
	s.Log.Info("signed in", "admin", admin.Name, "client", clientIP(r))
	writeJSON(w, http.StatusOK, map[string]any{"admin": admin.Name, "csrf_token": csrf})
}

// dummyHash is a bcrypt hash of nothing useful, compared against when the
// name is unknown so that timing does not reveal which names exist.
var dummyHash = sync.OnceValue(func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("roster-no-such-admin"), BcryptCost)
	return string(h)
})

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.DeleteSession(r.Context(), who(r).sessionID); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1,
		Secure: s.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	writeJSON(w, http.StatusOK, map[string]any{"admin": p.admin.Name, "csrf_token": p.csrf})
}

type passwordRequest struct {
	Current roster.Secret `json:"current"`
	New     roster.Secret `json:"new"`
}

// changePassword sets a new admin password, after checking the current
// one, and ends the admin's other sessions.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	var req passwordRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<14)).Decode(&req); err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "send {\"current\": ..., \"new\": ...} as JSON"))
		return
	}
	if err := s.signInWait(r, p.admin.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	_, hash, err := s.auth.AdminByName(r.Context(), p.admin.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Current.Reveal())) != nil {
		s.signInFailed(r, p.admin)
		s.writeError(w, r, roster.Errorf(roster.EUNAUTHORIZED, "the current password is wrong"))
		return
	}
	s.signInSucceeded(r, p.admin)
	if n := len([]rune(req.New.Reveal())); n < MinPasswordLength {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "the new password has %d characters; use at least %d", n, MinPasswordLength))
		return
	}
	h, err := HashPassword(req.New)
	if err == nil {
		err = s.auth.SetAdminPassword(r.Context(), p.admin.ID, h, p.sessionID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("admin password changed", "admin", p.admin.Name)
	w.WriteHeader(http.StatusNoContent)
}

// signInWait refuses a sign-in while the client's address, or the
// admin name from any address, is locked after failed sign-ins. The
// name's lock holds the right password too: otherwise the guessing
// would go on. It is looked up only for names that are admins', so
// that a flood of made-up names stores nothing.
func (s *Server) signInWait(r *http.Request, name string) error {
	now := s.Now()
	if wait := s.addresses.wait(addressKey(clientIP(r)), now); wait > 0 {
		return errTooMany(wait, "too many failed sign-ins from this address; try again in %s", wait.Round(time.Second))
	}
	l, err := s.auth.Lockout(r.Context(), roster.AdminLockoutKey(name))
	if err != nil {
		return err
	}
	if wait := l.Wait(now); wait > 0 {
		s.Log.Warn("sign-in refused: the name is locked", "client", clientIP(r), "locked_until", l.Until.UTC().Format(time.RFC3339))
		return errTooMany(wait, "too many failed sign-ins for this name; try again in %s, or clear the lock on the server: roster lockouts clear %s",
			wait.Round(time.Second), roster.AdminLockoutKey(name))
	}
	return nil
}

// signInFailed counts a failed sign-in against the address, and against
// the admin's name when the name is an admin's.
func (s *Server) signInFailed(r *http.Request, admin *roster.Admin) {
	now, ip := s.Now(), clientIP(r)
	s.addresses.fail(addressKey(ip), ip, now)
	// The typed name is logged only when it is an admin's: a password
	// typed into the name field must not reach the log.
	if admin == nil {
		s.Log.Warn("sign-in refused", "name", "(unknown name)", "client", ip)
		return
	}
	l, err := s.auth.FailLockout(r.Context(), roster.AdminLockoutKey(admin.Name), admin.Name, adminName, now)
	if err != nil {
		s.Log.Error("a failed sign-in could not be counted", "name", admin.Name, "err", err)
	}
	s.Log.Warn("sign-in refused", "name", admin.Name, "client", ip)
	if l.Wait(now) > 0 && l.Failures == 0 {
		s.Log.Warn("admin sign-in locked after failed sign-ins", "name", admin.Name, "locked_until", l.Until.UTC().Format(time.RFC3339),
			"locks_in_a_row", l.Trips, "clear", "roster lockouts clear "+l.Key)
	}
}

func (s *Server) signInSucceeded(r *http.Request, admin *roster.Admin) {
	s.addresses.clear(addressKey(clientIP(r)))
	if _, err := s.auth.ClearLockout(r.Context(), roster.AdminLockoutKey(admin.Name)); err != nil {
		s.Log.Error("a sign-in could not clear the count of failed ones", "name", admin.Name, "err", err)
	}
}

// clientIP is the peer address. X-Forwarded-For is not trusted: any
// client can send it, and the rate limit would be worthless.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
