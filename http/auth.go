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
		t, err := s.Store.TokenBySecretHash(r.Context(), HashSecret(secret))
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
	admin, csrf, err := s.Store.Session(r.Context(), id)
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
	// Failures count per client address, and per address and name: never
	// per name alone, or anyone could keep the admin locked out.
	ip := clientIP(r)
	keys := []string{"ip:" + ip, "ip+name:" + ip + "/" + strings.ToLower(req.Name)}
	if wait := s.limiter.blocked(keys...); wait > 0 {
		w.Header().Set("Retry-After", itoa(int(wait.Seconds())+1))
		s.writeError(w, r, roster.Errorf(roster.ETOOMANY, "too many failed sign-ins; try again in %d seconds", int(wait.Seconds())+1))
		return
	}
	admin, hash, err := s.Store.AdminByName(r.Context(), req.Name)
	if err != nil && roster.ErrorCode(err) != roster.ENOTFOUND {
		s.writeError(w, r, err)
		return
	}
	if admin == nil {
		hash = dummyHash() // spend the same time as for a real name
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password.Reveal())) != nil || admin == nil {
		s.limiter.fail(keys...)
		// The typed name is logged only when it is an admin's: a password
		// typed into the name field must not reach the log.
		name := "(unknown name)"
		if admin != nil {
			name = admin.Name
		}
		s.Log.Warn("sign-in refused", "name", name, "client", ip)
		s.writeError(w, r, roster.Errorf(roster.EUNAUTHORIZED, "wrong name or password"))
		return
	}
	s.limiter.reset(keys...)
	id, csrf := NewSecret(), NewSecret()
	if err := s.Store.CreateSession(r.Context(), HashSecret(id), admin.ID, csrf, s.Now().Add(SessionLifetime)); err != nil {
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
	if err := s.Store.DeleteSession(r.Context(), who(r).sessionID); err != nil {
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
	keys := []string{"ip:" + clientIP(r), "ip+name:" + clientIP(r) + "/" + strings.ToLower(p.admin.Name)}
	if wait := s.limiter.blocked(keys...); wait > 0 {
		s.writeError(w, r, roster.Errorf(roster.ETOOMANY, "too many failed attempts; try again in %d seconds", int(wait.Seconds())+1))
		return
	}
	_, hash, err := s.Store.AdminByName(r.Context(), p.admin.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Current.Reveal())) != nil {
		s.limiter.fail(keys...)
		s.writeError(w, r, roster.Errorf(roster.EUNAUTHORIZED, "the current password is wrong"))
		return
	}
	if n := len([]rune(req.New.Reveal())); n < MinPasswordLength {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "the new password has %d characters; use at least %d", n, MinPasswordLength))
		return
	}
	h, err := HashPassword(req.New)
	if err == nil {
		err = s.Store.SetAdminPassword(r.Context(), p.admin.ID, h, p.sessionID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("admin password changed", "admin", p.admin.Name)
	w.WriteHeader(http.StatusNoContent)
}

// limiter counts failed sign-ins per key (client address, admin name)
// over a sliding window, and blocks a key after too many.
type limiter struct {
	mu     sync.Mutex
	now    func() time.Time
	fails  map[string][]time.Time
	max    int           // failures a key may have within window
	window time.Duration // how long a failure counts
}

const (
	limitFailures = 5
	limitWindow   = 5 * time.Minute
	limitKeys     = 10000 // bound on the memory an attacker can make it use
)

func newLimiter(now func() time.Time, max int, window time.Duration) *limiter {
	return &limiter{now: now, fails: map[string][]time.Time{}, max: max, window: window}
}

// blocked returns how long the first blocked key must still wait, or 0.
func (l *limiter) blocked(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		recent := l.prune(k, now)
		if len(recent) >= l.max {
			return recent[0].Add(l.window).Sub(now)
		}
	}
	return 0
}

func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > limitKeys {
		for k := range l.fails { // drop the stale ones
			l.prune(k, l.now())
		}
	}
	for _, k := range keys {
		if _, known := l.fails[k]; !known && len(l.fails) > limitKeys {
			continue // full of fresh keys: count no new ones rather than grow without bound
		}
		l.fails[k] = append(l.fails[k], l.now())
	}
}

func (l *limiter) reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.fails, k)
	}
}

func (l *limiter) prune(k string, now time.Time) []time.Time {
	ts := l.fails[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, k)
	} else {
		l.fails[k] = ts
	}
	return ts
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
