// Package http serves roster's REST API (under /api/v1) and its
// operational endpoints (/healthz, /readyz, /metrics).
//
// Two kinds of callers sign in: admins, with a password that opens a
// session cookie (HttpOnly, SameSite=Strict, Secure over TLS) whose
// state-changing requests must carry the session's CSRF token; and
// scripts and print terminals, with a bearer API token of scope read or
// admin. Nothing is open to anonymous callers but the health checks.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Store is all the server needs of the user base: the union of the
// narrow interfaces that the handler groups declare beside their
// handlers (AuthStore in auth.go, UserStore in users.go, RunStore in
// runs.go, TerminalStore in identify.go, Pinger in ops.go). One value
// serves them all (roster serve passes its *sqlstore.DB), yet each
// group reaches it only through its own interface (the views in
// Server), so that a reader of a handler file sees what it may touch.
//
// The contracts are on those interfaces. Besides the errors a contract
// names, any method may fail with the database's own error, which
// carries no roster code: roster.ErrorCode reports it as EINTERNAL, and
// the API answers 500 and logs its text instead of sending it.
type Store interface {
	AuthStore
	UserStore
	RunStore
	TerminalStore
	Pinger
}

// WriteBacker writes what roster sets back to the directory (see
// roster.WriteBack).
type WriteBacker interface {
	// WriteBack writes value to the user's entry, to the attribute the
	// user's source names for field, and returns that attribute; "" when
	// the source writes nothing back. Each write it tries, done or not,
	// is recorded as a run of the source, without the value.
	//
	// Errors: the directory's, when the write fails.
	WriteBack(ctx context.Context, u *roster.User, field roster.WriteField, value string) (string, error)

	// TestWrite checks, without changing anything, that the source's
	// account may write each write-back attribute.
	//
	// Errors: ENOTFOUND when no source with settings has the ID;
	// EINVALID when the source writes nothing back, or has no enabled
	// user yet to try a write on; the directory's when it cannot be
	// signed in to.
	TestWrite(ctx context.Context, sourceID int64) (*roster.WriteTest, error)
}

// Server is roster's HTTP server. Store, Sources, Syncer and Log are
// required.
type Server struct {
	Store   Store
	Sources Sources
	Syncer  Syncer
	Log     *slog.Logger
	Now     func() time.Time
	Version string
	// SecureCookies marks the session cookie Secure even on plain HTTP,
	// for a TLS-terminating proxy in front.
	SecureCookies bool
	// HashCode is the keyed hash of print codes, the one syncs store;
	// without it the terminal API identifies by card only.
	HashCode func(code string) string
	// CheckPassword signs in to the user's directory as the user, once,
	// for the terminal API; without it passwords cannot identify anyone.
	CheckPassword func(ctx context.Context, u *roster.User, password roster.Secret) error
	// WriteBack writes print codes and cards roster sets to directories
	// whose sources ask for it; nil: never.
	WriteBack WriteBacker
	// CheckFilter refuses a source's user filter that the directory
	// client cannot compile, with the parser's reason (an EINVALID
	// error); nil: filters are not checked until a sync sends them.
	CheckFilter func(filter string) error

	// RefusalFloor is the least time a terminal waits for a refusal of a
	// named person (see DefaultRefusalFloor); 0: the default.
	RefusalFloor time.Duration

	// The store as each handler group sees it, set from Store by
	// Handler. A group's handlers use their own view, never Store
	// (console.go does not yet: see TestHandlersUseTheirGroupsStore).
	auth     AuthStore           // sign-in, sessions, tokens (auth.go, tokens.go)
	users    UserStore           // users, groups, cards, print codes (users.go, cards.go, printcodes.go)
	runs     RunStore            // the record of runs (runs.go, ops.go)
	term     TerminalStore       // the terminal API (identify.go)
	lockouts roster.LockoutStore // the lockouts API and banners (lockouts.go)
	health   Pinger              // the readiness check (ops.go)

	addresses *budget     // console sign-in failures per client address
	cards     *guessKind  // unknown cards at terminals
	codes     *guessKind  // wrong print codes typed alone
	secrets   *guessKind  // wrong passwords, and codes given with a login or card
	refusals  *refusals   // terminal refusals by reason, and recent bursts
	checks    *checkTimes // the latest password checks' durations
	mux       *http.ServeMux
}

// SessionLifetime is how long a console session lasts.
const SessionLifetime = 12 * time.Hour

// Handler returns the server's routes, wrapped in the access log.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	s.auth, s.users, s.runs, s.term, s.lockouts, s.health = s.Store, s.Store, s.Store, s.Store, s.Store, s.Store
	s.addresses = newBudget(adminAddress, budgetKeys)
	s.cards = newGuessKind("unknown_card", "unknown cards", cardTerminal, cardAll)
	s.codes = newGuessKind("wrong_code", "wrong print codes", codeTerminal, codeAll)
	s.secrets = newGuessKind("wrong_password", "wrong passwords or codes", passwordTerminal, passwordAll)
	s.refusals, s.checks = &refusals{}, &checkTimes{}
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.HandleFunc("GET /metrics", s.read(s.metrics))

	m.HandleFunc("POST /api/v1/login", s.login)
	m.HandleFunc("POST /api/v1/logout", s.session(s.logout))
	m.HandleFunc("GET /api/v1/me", s.session(s.me))
	m.HandleFunc("POST /api/v1/password", s.session(s.changePassword))

	m.HandleFunc("GET /api/v1/users", s.read(s.listUsers))
	m.HandleFunc("GET /api/v1/users/{login}", s.read(s.getUser))
	m.HandleFunc("GET /api/v1/groups", s.read(s.listGroups))
	m.HandleFunc("POST /api/v1/users/{login}/print-code", s.write(s.newPrintCode))
	m.HandleFunc("POST /api/v1/sources/{id}/print-codes", s.write(s.newPrintCodes))
	m.HandleFunc("POST /api/v1/identify", s.terminal(s.identify))
	m.HandleFunc("GET /api/v1/lockouts", s.read(s.listLockouts))
	m.HandleFunc("DELETE /api/v1/lockouts/{key...}", s.write(s.clearLockout))
	m.HandleFunc("POST /api/v1/cards/test", s.write(s.testCards))
	m.HandleFunc("POST /api/v1/sources/{id}/write-test", s.write(s.testWrite))
	m.HandleFunc("POST /api/v1/users/{login}/cards", s.write(s.addCard))
	m.HandleFunc("DELETE /api/v1/users/{login}/cards/{number}", s.write(s.removeCard))
	m.HandleFunc("GET /api/v1/runs", s.read(s.listRuns))
	m.HandleFunc("GET /api/v1/runs/{id}", s.read(s.getRun))

	m.HandleFunc("GET /api/v1/sources", s.read(s.listSources))
	m.HandleFunc("POST /api/v1/sources", s.write(s.saveSource))
	m.HandleFunc("POST /api/v1/sources/test", s.write(s.testSource))
	m.HandleFunc("POST /api/v1/sources/diagnose", s.write(s.diagnoseSource))
	m.HandleFunc("POST /api/v1/sources/{id}/move", s.write(s.moveSource))
	m.HandleFunc("GET /api/v1/sources/{id}", s.read(s.getSource))
	m.HandleFunc("PUT /api/v1/sources/{id}", s.write(s.saveSource))
	m.HandleFunc("DELETE /api/v1/sources/{id}", s.write(s.deleteSource))
	m.HandleFunc("POST /api/v1/sources/{id}/preview", s.write(s.previewSource))
	m.HandleFunc("POST /api/v1/sources/{id}/sync", s.write(s.syncSource))
	m.HandleFunc("GET /api/v1/runs/{id}/progress", s.read(s.runProgress))
	m.HandleFunc("GET /api/v1/runs/{id}/events", s.read(s.runEvents))
	m.HandleFunc("POST /api/v1/runs/{id}/cancel", s.write(s.cancelRun))

	m.HandleFunc("POST /api/v1/certificates/new", s.write(s.newCertificate))
	m.HandleFunc("POST /api/v1/certificates/check", s.write(s.checkCertificate))

	m.HandleFunc("GET /api/v1/tokens", s.session(s.listTokens))
	m.HandleFunc("POST /api/v1/tokens", s.session(s.createToken))
	m.HandleFunc("DELETE /api/v1/tokens/{id}", s.session(s.revokeToken))

	m.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	s.consoleRoutes(m)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, roster.Errorf(roster.ENOTFOUND, "no such API route: %s %s", r.Method, r.URL.Path))
	})
	s.mux = m
	return s.accessLog(m)
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets server-sent events through the access log's wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logPath is a request's path as the access log shows it: a card number
// in it (removing a card added by hand) is masked, as in the audit lines.
func logPath(p string) string {
	const cards = "/cards/"
	if i := strings.LastIndex(p, cards); strings.HasPrefix(p, "/api/v1/users/") && i >= 0 && i+len(cards) < len(p) {
		return p[:i+len(cards)] + maskCard(p[i+len(cards):])
	}
	return p
}

// accessLog logs one structured line per request: method, path, status,
// duration and client, and sets the headers every answer carries. Never headers, bodies or query strings, which may
// carry secrets or searches for people.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Now()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.TLS != nil {
			// Served over TLS (roster serve -tls-cert): browsers keep to
			// HTTPS for a year. Never over plain HTTP, where it would pin
			// a site that may not have TLS (RFC 6797 §7.2).
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.Log.Info("http", "method", r.Method, "path", logPath(r.URL.Path), "status", sw.status,
			"ms", float64(s.Now().Sub(start).Microseconds())/1000, "client", clientIP(r))
	})
}
