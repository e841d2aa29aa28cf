// Package graphlab is a test double of Microsoft Entra ID's token
// endpoint and of the Microsoft Graph v1.0 calls roster makes, served on
// 127.0.0.1 over HTTPS. No test reaches the internet: roster's Graph
// client is pointed at this server as at a national cloud.
//
// It is written from Microsoft's published documentation (the pages are
// cited next to each behaviour) and covers what roster relies on, no
// more:
//
//   - the OpenID configuration of a tenant, which MSAL reads to find the
//     token endpoint;
//   - the client credentials grant, with a client secret or a certificate
//     assertion (a JWT signed PS256 or RS256, its key found by x5t#S256 or
//     x5t, its audience the token URL, within its validity), answering
//     the AADSTS codes an admin meets (700016, 7000215, 7000222, 700027,
//     700024, 90002);
//   - GET /v1.0/users, /v1.0/groups and /v1.0/groups/{id}/transitiveMembers,
//     with $select, $top (1 to 999) and nextLink paging;
//   - GET /v1.0/users/delta: rounds, removals, delta links, and expired
//     or reset delta links on request;
//   - GET and PATCH /v1.0/users/{id}, the write needing User.ReadWrite.All;
//   - a refusal (403 Authorization_RequestDenied) of a call whose
//     application permission was not granted;
//   - faults on request: 429 with Retry-After, 503.
//
// Tokens are opaque here (Graph clients must not read them anyway); the
// server remembers the roles each carries.
package graphlab

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// App is an application registration: what the token endpoint accepts
// from it, and the application permissions an admin granted it.
type App struct {
	ClientID string
	// Secret is the client secret's value; empty, the app has none.
	Secret        string
	SecretExpired bool
	// Certs are the public certificates uploaded to the app.
	Certs []*x509.Certificate
	// Roles are the granted application permissions, as "User.Read.All".
	Roles []string
}

// Server is a running double. Its fields may be changed between
// requests, under Lock.
type Server struct {
	*httptest.Server
	TenantID string

	mu     sync.Mutex
	apps   map[string]*App
	tokens map[string]token
	users  []map[string]any
	groups []Group
	faults []int // statuses to answer to the next Graph calls, in order

	// The change log behind delta queries: every change bumps version;
	// changed and removed hold each user's last change.
	version int
	changed map[string]int
	removed map[string]removal
	// deltaFloor: delta tokens of a version below it are refused, as
	// expired (syncStateNotFound) or, with deltaGone, reset (410 Gone).
	deltaFloor int
	deltaGone  bool
	// DeltaPage is how many objects a delta page holds (Graph picks its
	// own page size for delta; $top is not supported there).
	DeltaPage int
	// RetryAfter is the Retry-After (seconds) of an injected 429 or 503.
	RetryAfter int
	// Now is the server's clock, for assertions' nbf and exp.
	Now func() time.Time
	// Calls counts the Graph calls answered (faults included), by path.
	Calls map[string]int
}

type removal struct {
	version   int
	permanent bool
}

type token struct {
	app     string
	roles   []string
	expires time.Time
}

// New starts a double for one tenant on 127.0.0.1 with a certificate of
// its own: the client trusts it through Server.Client().
func New(tenantID string) *Server {
	s := &Server{TenantID: tenantID, apps: map[string]*App{}, tokens: map[string]token{},
		RetryAfter: 1, Now: time.Now, Calls: map[string]int{},
		changed: map[string]int{}, removed: map[string]removal{}, DeltaPage: 200}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.openIDConfiguration)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("GET /v1.0/users", s.graph("User.Read.All", s.listUsers))
	mux.HandleFunc("GET /v1.0/users/delta", s.graph("User.Read.All", s.usersDelta))
	mux.HandleFunc("GET /v1.0/users/{id}", s.graph("User.Read.All", s.getUser))
	mux.HandleFunc("PATCH /v1.0/users/{id}", s.graph("User.ReadWrite.All", s.patchUser))
	mux.HandleFunc("GET /v1.0/groups", s.graph("GroupMember.Read.All", s.listGroups))
	mux.HandleFunc("GET /v1.0/groups/{id}/transitiveMembers", s.graph("GroupMember.Read.All", s.transitiveMembers))
	s.Server = httptest.NewTLSServer(mux)
	return s
}

// Register adds or replaces an application registration.
func (s *Server) Register(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[strings.ToLower(a.ClientID)] = &a
}

// SetUsers replaces the tenant's users: each a Graph user resource as
// JSON would decode it, with at least an "id".
func (s *Server) SetUsers(users []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = users
	s.version++
	for _, u := range users {
		s.changed[u["id"].(string)] = s.version
	}
}

// UpsertUser adds a user, or replaces the one with its ID: a change the
// next delta round reports.
func (s *Server) UpsertUser(u map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	id := u["id"].(string)
	s.changed[id] = s.version
	delete(s.removed, id)
	for i, old := range s.users {
		if old["id"] == id {
			s.users[i] = u
			return
		}
	}
	s.users = append(s.users, u)
}

// DeleteUser removes a user: soft (restorable for 30 days, reason
// "changed") or permanent (reason "deleted"), as the next delta round
// reports it.
func (s *Server) DeleteUser(id string, permanent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.users = slices.DeleteFunc(s.users, func(u map[string]any) bool { return u["id"] == id })
	delete(s.changed, id)
	s.removed[id] = removal{s.version, permanent}
}

// ExpireDeltaTokens makes every delta token given so far unusable: as
// expired after 7 days (400 syncStateNotFound), or, with gone, as reset
// by the service (410 Gone with a Location to start again).
func (s *Server) ExpireDeltaTokens(gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.deltaFloor, s.deltaGone = s.version, gone
}

// Fail makes the next Graph calls answer these statuses (429 and 503
// with Retry-After; 200 with a body that holds no value list, as a proxy
// might), one call each, before serving again.
func (s *Server) Fail(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, statuses...)
}

// CallsTo returns how many Graph calls reached path, faults included.
func (s *Server) CallsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Calls[path]
}

// AuthorityHost is the URL the client uses as its authority host.
func (s *Server) AuthorityHost() string { return s.URL }

// GraphHost is the URL the client uses as its Graph root.
func (s *Server) GraphHost() string { return s.URL }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
