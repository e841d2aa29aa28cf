package http_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rosterhq/roster"
	rhttp "github.com/rosterhq/roster/http"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

const adminPassword = "Admin-Password-Long-1"

// Hashes at full cost take a quarter second each; the tests make dozens.
func TestMain(m *testing.M) {
	rhttp.BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

// The tests run on the store that roster serve wires as Server.Store:
// it must keep meeting every handler group's interface.
var _ rhttp.Store = (*sqlstore.DB)(nil)

// fixture is a server on a real SQLite store in a temporary folder, with
// one admin and two users, and a log captured for inspection.
type fixture struct {
	t         testing.TB
	srv       *httptest.Server
	db        *sqlstore.DB
	logs      *syncBuffer
	responses []string // every response body, to search for secrets
	syncer    *fakeSyncer
	binds     atomic.Int32 // password checks made
	skew      atomic.Int64 // how far the server's clock is ahead of time.Now, in ns
	bindTime  atomic.Int64 // how long a password check takes, in ns
}

// later moves the server's clock on by d: locks end, and windows pass.
func (f *fixture) later(d time.Duration) { f.skew.Add(int64(d)) }

// fakeSyncer stands in for the directory: the handlers' job is auth,
// shapes and passing settings on; the real Syncer is tested against the
// lab in cmd/roster.
type fakeSyncer struct {
	mu       sync.Mutex
	tested   []*roster.Source
	started  []int64
	requests []roster.SyncRequest
}

func (f *fakeSyncer) Move(_ context.Context, sourceID int64, to *roster.Source, apply bool) (*roster.MoveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tested = append(f.tested, to)
	return &roster.MoveResult{Applied: apply}, nil
}

func (f *fakeSyncer) Diagnose(_ context.Context, src *roster.Source) *roster.Diagnosis {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tested = append(f.tested, src)
	return &roster.Diagnosis{Source: src.Name, Type: string(src.Type), OK: true, Steps: []roster.DiagnosisStep{{Name: "settings", Status: roster.StepPass}}}
}

func (f *fakeSyncer) Test(_ context.Context, src *roster.Source) *roster.ConnectionTest {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tested = append(f.tested, src)
	return &roster.ConnectionTest{OK: true, URL: "ldaps://" + src.Address, Users: 42}
}
func (f *fakeSyncer) Preview(context.Context, int64) (*roster.Preview, error) {
	return &roster.Preview{Run: &roster.Run{Created: 1}, Changes: []roster.Change{{Kind: roster.Create, Login: "carol"}}}, nil
}
func (f *fakeSyncer) Start(id int64, req roster.SyncRequest) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, id)
	f.requests = append(f.requests, req)
	return 77, nil
}
func (f *fakeSyncer) NextRun(id int64) roster.NextRuns {
	if id == 1 {
		return roster.NextRuns{Full: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC), Incremental: time.Date(2026, 11, 25, 21, 5, 0, 0, time.UTC)}
	}
	return roster.NextRuns{}
}
func (f *fakeSyncer) Progress(id int64) *roster.RunProgress {
	if id == 77 {
		return &roster.RunProgress{RunID: 77, Phase: "users", Seen: 5, Done: true, Status: roster.RunSucceeded}
	}
	return nil
}
func (f *fakeSyncer) Cancel(id int64) error {
	if id == 77 {
		return nil
	}
	return roster.Errorf(roster.ENOTFOUND, "run %d is not running", id)
}

func testSealer(t testing.TB) cipher.AEAD {
	b, _ := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	hash, err := rhttp.HashPassword(adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAdmin(ctx, "admin", hash); err != nil {
		t.Fatal(err)
	}
	src, _ := db.SourceID(ctx, "corp")
	_, err = db.Apply(ctx, src, []roster.Change{
		{Kind: roster.Create, User: &roster.User{Anchor: "a1", DN: "CN=Alice,DC=corp,DC=test", Login: "alice", Name: "Alice Martin", PrintCodeHash: "deadbeef",
			Cards: []roster.Card{{Number: "0001", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory}}}},
		{Kind: roster.Create, User: &roster.User{Anchor: "b1", DN: "CN=Bob,DC=corp,DC=test", Login: "bob", Name: "Bob Smith", Disabled: true, DisabledReason: roster.DisabledInDirectory}},
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Sealer = testSealer(t)
	f := &fixture{t: t, db: db, logs: &syncBuffer{}, syncer: &fakeSyncer{}}
	// The server and its store read one clock, as they do in roster:
	// a session the server stamps with a skewed clock must not look
	// expired (or eternal) to a store that reads the real one.
	clock := func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) }
	db.Now = clock
	s := &rhttp.Server{Store: db, Sources: db, Syncer: f.syncer, Log: slog.New(slog.NewJSONHandler(f.logs, nil)), Version: "test",
		HashCode: func(c string) string { return "test-hmac:" + c },
		Now:      clock,
		// Short, so that the tests of refusals run quickly; the timing
		// test sets its own.
		RefusalFloor: 20 * time.Millisecond,
		CheckPassword: func(_ context.Context, u *roster.User, pw roster.Secret) error {
			f.binds.Add(1)
			time.Sleep(time.Duration(f.bindTime.Load()))
			if u.Login == "alice" && pw.Reveal() == "Alice-Right-1" {
				return nil
			}
			return roster.Errorf(roster.EUNAUTHORIZED, "the directory rejected the login %s: wrong password (AD code 52e)", u.DN)
		},
		// What cmd/roster wires (ldap.CheckFilter), faked: http does
		// not import ldap.
		CheckFilter: func(filter string) error {
			if strings.Count(filter, "(") != strings.Count(filter, ")") {
				return roster.Errorf(roster.EINVALID, "the user filter %q is not a valid LDAP filter: unexpected end of filter", filter)
			}
			return nil
		}}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// client is one caller: a cookie jar, and optionally a bearer token and
// a CSRF token.
type client struct {
	f      *fixture
	c      *http.Client
	bearer string
	csrf   string
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// terminal returns a client holding a new terminal token, which the
// signed-in admin makes.
func (f *fixture) terminal(admin *client) *client {
	_, body, _ := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "station", "scope": "terminal"})
	term := f.client()
	term.bearer, _ = body["secret"].(string)
	return term
}

// signIn signs the client in as the admin and keeps the CSRF token.
// page fetches a console page with the client's session, as a browser.
func (c *client) page(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", c.f.srv.URL+path, nil)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (c *client) signIn() {
	c.f.t.Helper()
	code, body, _ := c.do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": adminPassword})
	if code != http.StatusOK {
		c.f.t.Fatalf("sign-in = %d %v", code, body)
	}
	c.csrf, _ = body["csrf_token"].(string)
}

func (c *client) do(method, path string, body any) (int, map[string]any, http.Header) {
	c.f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.f.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	c.f.responses = append(c.f.responses, string(raw))
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp.Header
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	anon := f.client()
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/v1/users", 401},
		{"GET", "/api/v1/users/alice", 401},
		{"GET", "/api/v1/groups", 401},
		{"GET", "/api/v1/runs", 401},
		{"GET", "/api/v1/runs/1", 401},
		{"GET", "/api/v1/runs/1/progress", 401},
		{"GET", "/api/v1/runs/1/events", 401},
		{"POST", "/api/v1/runs/1/cancel", 401},
		{"GET", "/api/v1/sources", 401},
		{"POST", "/api/v1/sources", 401},
		{"POST", "/api/v1/sources/test", 401},
		{"GET", "/api/v1/sources/1", 401},
		{"PUT", "/api/v1/sources/1", 401},
		{"DELETE", "/api/v1/sources/1", 401},
		{"POST", "/api/v1/sources/1/preview", 401},
		{"POST", "/api/v1/sources/1/sync", 401},
		{"POST", "/api/v1/certificates/new", 401},
		{"POST", "/api/v1/certificates/check", 401},
		{"GET", "/api/v1/tokens", 401},
		{"POST", "/api/v1/tokens", 401},
		{"DELETE", "/api/v1/tokens/1", 401},
		{"POST", "/api/v1/logout", 401},
		{"GET", "/api/v1/me", 401},
		{"POST", "/api/v1/password", 401},
		{"GET", "/metrics", 401},
		{"GET", "/api/v1/nothing", 404},
		{"GET", "/healthz", 200},
		{"GET", "/readyz", 200},
		{"GET", "/api/v1/openapi.json", 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, body, _ := anon.do(tt.method, tt.path, nil)
			if code != tt.want {
				t.Fatalf("%s %s anonymously = %d, want %d", tt.method, tt.path, code, tt.want)
			}
			if code >= 400 && errCode(body) == "" {
				t.Fatalf("the error has no code: %v", body)
			}
		})
	}
}

func TestSessionCookieAndCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	code, body, h := c.do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": adminPassword})
	if code != 200 {
		t.Fatalf("sign-in = %d %v", code, body)
	}
	cookie := h.Get("Set-Cookie")
	for _, want := range []string{"roster_session=", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("the session cookie %q lacks %s", cookie, want)
		}
	}
	c.csrf = ""
	if code, body, _ := c.do("POST", "/api/v1/tokens", map[string]string{"name": "x", "scope": "read"}); code != 403 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "CSRF") {
		t.Fatalf("a write without the CSRF token = %d %v, want 403", code, body)
	}
	c.csrf = "forged"
	if code, _, _ := c.do("POST", "/api/v1/tokens", map[string]string{"name": "x", "scope": "read"}); code != 403 {
		t.Fatalf("a write with a wrong CSRF token = %d, want 403", code)
	}
	c.csrf = body["csrf_token"].(string)
	if code, _, _ := c.do("GET", "/api/v1/users", nil); code != 200 {
		t.Fatalf("a read in the session = %d", code)
	}
	if code, _, _ := c.do("POST", "/api/v1/logout", nil); code != 204 {
		t.Fatalf("logout = %d", code)
	}
	if code, _, _ := c.do("GET", "/api/v1/users", nil); code != 401 {
		t.Fatalf("after logout = %d, want 401", code)
	}
}

func TestFailedSignInsAreRateLimited(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for i := 0; i < 5; i++ {
		if code, _, _ := c.do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": "wrong-guess"}); code != 401 {
			t.Fatalf("wrong password %d = %d, want 401", i+1, code)
		}
	}
	code, body, h := c.do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": adminPassword})
	if code != 429 || h.Get("Retry-After") == "" || errCode(body) != roster.ETOOMANY {
		t.Fatalf("after 5 failures, even the right password = %d %v, want 429 with Retry-After", code, body)
	}
	// An unknown name gives the same answer as a wrong password (on a
	// fresh server: the limit above counts this client's address too).
	_, b1, _ := newFixture(t).client().do("POST", "/api/v1/login", map[string]string{"name": "nobody", "password": "x"})
	if m := b1["error"].(map[string]any)["message"]; m != "wrong name or password" {
		t.Fatalf("unknown name says %q", m)
	}
}

func TestTokensScopesAndRevocation(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	mk := func(scope string) (string, float64) {
		code, body, _ := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "terminal " + scope, "scope": scope})
		if code != 201 || !strings.HasPrefix(body["secret"].(string), "roster_") {
			t.Fatalf("create %s token = %d %v", scope, code, body)
		}
		return body["secret"].(string), body["token"].(map[string]any)["id"].(float64)
	}
	readSecret, readID := mk("read")
	adminSecret, _ := mk("admin")

	reader := f.client()
	reader.bearer = readSecret
	if code, body, _ := reader.do("GET", "/api/v1/users?q=ali", nil); code != 200 || body["total"].(float64) != 1 {
		t.Fatalf("a read token searching = %d %v", code, body)
	}
	if code, _, _ := reader.do("POST", "/api/v1/tokens", map[string]string{"name": "sneaky", "scope": "admin"}); code != 403 {
		t.Fatalf("a read-only token writing = %d, want 403", code)
	}
	strong := f.client()
	strong.bearer = adminSecret
	if code, _, _ := strong.do("DELETE", "/api/v1/tokens/1", nil); code != 403 {
		t.Fatalf("an admin token managing tokens = %d, want 403 (console only)", code)
	}
	if code, body, _ := admin.do("GET", "/api/v1/tokens", nil); code != 200 || strings.Contains(f.responses[len(f.responses)-1], "roster_") && strings.Contains(f.responses[len(f.responses)-1], readSecret) {
		t.Fatalf("token list = %d %v; it must not show secrets", code, body)
	}
	if code, _, _ := admin.do("DELETE", "/api/v1/tokens/"+itoa(int(readID)), nil); code != 204 {
		t.Fatalf("revoke = %d", code)
	}
	if code, _, _ := reader.do("GET", "/api/v1/users", nil); code != 401 {
		t.Fatalf("a revoked token = %d, want 401", code)
	}
	bad := f.client()
	bad.bearer = "roster_made-up"
	if code, _, _ := bad.do("GET", "/api/v1/users", nil); code != 401 {
		t.Fatalf("a made-up token = %d, want 401", code)
	}
}

func TestUsersRunsAndMetrics(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run := &roster.Run{SourceID: 1, Mode: roster.RunFull, StartedAt: time.Now().Add(-2 * time.Second)}
	f.db.StartRun(ctx, run)
	run.Status, run.FinishedAt, run.Seen, run.Created = roster.RunSucceeded, time.Now(), 2, 2
	f.db.FinishRun(ctx, run)

	c := f.client()
	c.signIn()
	code, body, _ := c.do("GET", "/api/v1/users/ALICE", nil)
	raw := f.responses[len(f.responses)-1]
	if code != 200 || body["print_code_set"] != true || strings.Contains(raw, "deadbeef") || strings.Contains(raw, "PrintCodeHash") {
		t.Fatalf("get user = %d\n%s", code, raw)
	}
	if code, body, _ := c.do("GET", "/api/v1/users?disabled=true", nil); code != 200 || body["total"].(float64) != 1 {
		t.Fatalf("disabled users = %d %v", code, body)
	}
	if code, body, _ := c.do("GET", "/api/v1/users?limit=0", nil); code != 400 || errCode(body) != roster.EINVALID {
		t.Fatalf("limit=0 = %d %v", code, body)
	}
	if code, _, _ := c.do("GET", "/api/v1/users/nobody", nil); code != 404 {
		t.Fatalf("unknown user = %d", code)
	}
	if code, body, _ := c.do("GET", "/api/v1/runs/"+itoa(int(run.ID)), nil); code != 200 || body["Seen"].(float64) != 2 {
		t.Fatalf("run = %d %v", code, body)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/metrics", nil)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Whole lines: "} 1" alone would match 10 or 12.
	for _, want := range []string{"roster_runs_total{status=\"succeeded\"} 1\n", "roster_last_run_entries{kind=\"created\"} 2\n",
		fmt.Sprintf("roster_last_success_timestamp_seconds %d\n", run.FinishedAt.Unix())} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	a, b := f.client(), f.client()
	a.signIn()
	b.signIn()
	if code, _, _ := a.do("POST", "/api/v1/password", map[string]string{"current": "wrong", "new": "Another-Long-Password-2"}); code != 401 {
		t.Fatalf("wrong current password = %d", code)
	}
	if code, body, _ := a.do("POST", "/api/v1/password", map[string]string{"current": adminPassword, "new": "short"}); code != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "at least 12") {
		t.Fatalf("short password = %d %v", code, body)
	}
	if code, _, _ := a.do("POST", "/api/v1/password", map[string]string{"current": adminPassword, "new": "Another-Long-Password-2"}); code != 204 {
		t.Fatalf("change = %d", code)
	}
	if code, _, _ := a.do("GET", "/api/v1/me", nil); code != 200 {
		t.Fatalf("the session that changed the password = %d, want it kept", code)
	}
	if code, _, _ := b.do("GET", "/api/v1/me", nil); code != 401 {
		t.Fatalf("another session after the change = %d, want 401", code)
	}
	if code, _, _ := f.client().do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": adminPassword}); code != 401 {
		t.Fatalf("the old password still works: %d", code)
	}
}

// No password may reach a response or a log line.
func TestPasswordsNeverLeak(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.do("POST", "/api/v1/login", map[string]string{"name": "admin", "password": "Wrong-Secret-Guess-9"})
	c.signIn()
	c.do("POST", "/api/v1/password", map[string]string{"current": adminPassword, "new": "Brand-New-Secret-Pw-3"})
	c.do("GET", "/api/v1/users", nil)
	all := f.logs.String() + strings.Join(f.responses, "\n")
	for _, secret := range []string{adminPassword, "Wrong-Secret-Guess-9", "Brand-New-Secret-Pw-3"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q appears in a response or the log", secret)
		}
	}
	if !strings.Contains(f.logs.String(), `"path":"/api/v1/login"`) {
		t.Error("the access log does not record requests")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

const bindPassword = "Bind-Password-Never-Shown-5"

func articleSource() map[string]any {
	return map[string]any{"name": "corp", "type": "entra-ds", "address": "20.54.1.9", "tls": "ldaps",
		"domain": "aaddscontoso.com", "login": "svc-print", "password": bindPassword}
}

func TestSourcesPasswordIsWriteOnly(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	code, body, _ := c.do("POST", "/api/v1/sources", articleSource())
	if code != 201 || body["password_set"] != true {
		t.Fatalf("create = %d %v", code, body)
	}
	id := itoa(int(body["id"].(float64)))
	code, body, _ = c.do("GET", "/api/v1/sources/"+id, nil)
	if code != 200 || body["domain"] != "aaddscontoso.com" || body["password"] != nil {
		t.Fatalf("get = %d %v", code, body)
	}
	// An update without the password keeps it...
	upd := articleSource()
	delete(upd, "password")
	upd["user_filter"] = "(department=*)"
	if code, body, _ := c.do("PUT", "/api/v1/sources/"+id, upd); code != 200 || body["password_set"] != true {
		t.Fatalf("update = %d %v", code, body)
	}
	if stored, err := f.db.Source(context.Background(), int64(mustAtoi(id))); err != nil || stored.Password.Reveal() != bindPassword || stored.UserFilter != "(department=*)" {
		t.Fatalf("stored source: %+v, %v", stored, err)
	}
	// ...but the stored password never goes to a new place: a test with
	// a new address, SSL mode, login or certificate checks needs it typed
	// again, and an update drops it, and says why.
	for field, value := range map[string]any{"address": "203.0.113.9", "tls": "none", "login": "someone-else", "insecure_skip_verify": true,
		"ca_pem": "-----BEGIN CERTIFICATE-----\nRXZpbA==\n-----END CERTIFICATE-----\n", "pin_sha256": strings.Repeat("ab", 32), "server_name": "dc.evil.test"} {
		moved := articleSource()
		delete(moved, "password")
		moved[field] = value
		if field == "tls" {
			moved["allow_insecure"] = true
		}
		moved["id"] = mustAtoi(id)
		tested := len(f.syncer.tested)
		if code, body, _ := c.do("POST", "/api/v1/sources/test", moved); code != 400 || !strings.Contains(f.responses[len(f.responses)-1], "enter the password again") {
			t.Errorf("test with a new %s and the stored password = %d %v, want 400", field, code, body)
		}
		if len(f.syncer.tested) != tested {
			t.Errorf("a test with a new %s reached the directory with the stored password", field)
		}
		code, body, _ := c.do("PUT", "/api/v1/sources/"+id, moved)
		note, _ := body["password_note"].(string)
		if code != 200 || body["password_set"] != false || !strings.Contains(note, field) || !strings.Contains(note, "enter the password again") {
			t.Errorf("update of %s without the password = %d %v", field, code, body)
		}
		if stored, err := f.db.Source(context.Background(), int64(mustAtoi(id))); err != nil || stored.Password.IsSet() {
			t.Errorf("after an update of %s without the password, the stored password is kept (%v)", field, err)
		}
		if !logged(f.logs.String(), "source address or trust settings changed", `"`+field+`"`, `"password":"dropped"`) {
			t.Errorf("the change of %s is not in the log", field)
		}
		if code, body, _ := c.do("PUT", "/api/v1/sources/"+id, articleSource()); code != 200 || body["password_set"] != true || body["password_note"] != nil {
			t.Fatalf("putting the article's settings back with the password = %d %v", code, body)
		}
	}
	moved := articleSource()
	moved["id"], moved["address"] = mustAtoi(id), "203.0.113.9"
	if code, _, _ := c.do("POST", "/api/v1/sources/test", moved); code != 200 || f.syncer.tested[len(f.syncer.tested)-1].ID != 0 {
		t.Fatalf("a test of a new address with a typed password must not count as the stored source's: %d", code)
	}
	// Tests get the stored password when the form leaves it out.
	test := articleSource()
	delete(test, "password")
	test["id"] = mustAtoi(id)
	if code, body, _ := c.do("POST", "/api/v1/sources/test", test); code != 200 || body["ok"] != true {
		t.Fatalf("test = %d %v", code, body)
	}
	if got := f.syncer.tested[len(f.syncer.tested)-1].Password.Reveal(); got != bindPassword {
		t.Fatal("the test did not get the stored password")
	}
	bad := articleSource()
	bad["tls"] = "none"
	if code, body, _ := c.do("POST", "/api/v1/sources", bad); code != 400 || !strings.Contains(f.responses[len(f.responses)-1], "allow-insecure") {
		t.Fatalf("plain LDAP without allow_insecure = %d %v", code, body)
	}
	unknown := articleSource()
	unknown["pasword"] = "typo"
	if code, _, _ := c.do("POST", "/api/v1/sources", unknown); code != 400 {
		t.Fatalf("an unknown field = %d, want 400", code)
	}
	if code, _, _ := c.do("POST", "/api/v1/sources/"+id+"/sync", nil); code != 202 {
		t.Fatalf("sync = %d", code)
	}
	if code, body, _ := c.do("GET", "/api/v1/runs/77/progress", nil); code != 200 || body["done"] != true {
		t.Fatalf("progress = %d %v", code, body)
	}
	if code, _, _ := c.do("POST", "/api/v1/runs/78/cancel", nil); code != 404 {
		t.Fatalf("cancel of a run not running = %d", code)
	}
	if code, _, _ := c.do("DELETE", "/api/v1/sources/"+id, nil); code != 204 {
		t.Fatalf("delete = %d", code)
	}
	all := f.logs.String() + strings.Join(f.responses, "\n")
	if strings.Contains(all, bindPassword) {
		t.Fatal("the bind password appears in a response or the log")
	}
}

// logged reports whether one line of the log holds every part.
func logged(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

func TestReadTokensCannotUseTheBindPassword(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	_, body, _ := admin.do("POST", "/api/v1/sources", articleSource())
	id := itoa(int(body["id"].(float64)))
	_, tok, _ := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "dashboard", "scope": "read"})
	reader := f.client()
	reader.bearer = tok["secret"].(string)
	if code, _, _ := reader.do("GET", "/api/v1/sources", nil); code != 200 {
		t.Fatalf("a read token listing sources = %d", code)
	}
	for _, path := range []string{"/api/v1/sources/" + id + "/sync", "/api/v1/sources/" + id + "/preview", "/api/v1/sources/test"} {
		if code, _, _ := reader.do("POST", path, articleSource()); code != 403 {
			t.Errorf("a read token POST %s = %d, want 403", path, code)
		}
	}
	if code, _, _ := reader.do("DELETE", "/api/v1/sources/"+id, nil); code != 403 {
		t.Errorf("a read token deleting a source = %d, want 403", code)
	}
	if len(f.syncer.started) != 0 {
		t.Fatal("a read token started a sync")
	}
}

func TestRunEventsStreamUntilDone(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/runs/77/events", nil)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "text/event-stream" || !strings.Contains(string(b), `"done":true`) {
		t.Fatalf("events: %s\n%s", resp.Header.Get("Content-Type"), b)
	}
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

func TestCertificatesMakeAndCheck(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	code, made, _ := c.do("POST", "/api/v1/certificates/new", map[string]any{"domain": "aaddscontoso.com", "days": 365})
	if code != 201 || made["rules_failed"].(float64) != 0 || made["password"] == nil {
		t.Fatalf("new = %d %v", code, made["rules_failed"])
	}
	code, rep, _ := c.do("POST", "/api/v1/certificates/check", map[string]any{"file_base64": made["pfx_base64"], "password": made["password"]})
	if code != 200 || rep["kind"] != "pfx" || rep["domain"] != "aaddscontoso.com" {
		t.Fatalf("check of the made PFX = %d %v", code, rep["kind"])
	}
	for _, r := range rep["results"].([]any) {
		if r.(map[string]any)["status"] == "fail" {
			t.Errorf("the made PFX fails %v", r)
		}
	}
	code, rep, _ = c.do("POST", "/api/v1/certificates/check", map[string]any{"file_base64": made["pfx_base64"], "password": "wrong-one"})
	failed := ""
	for _, r := range rep["results"].([]any) {
		if m := r.(map[string]any); m["status"] == "fail" {
			failed += m["rule"].(string)
		}
	}
	if code != 200 || failed != "PFX-03" {
		t.Fatalf("a wrong password fails %q, want PFX-03", failed)
	}
	if code, _, _ := c.do("POST", "/api/v1/certificates/new", map[string]any{"domain": "nodot"}); code != 400 {
		t.Fatalf("a bad domain = %d, want 400", code)
	}
	_, tok, _ := c.do("POST", "/api/v1/tokens", map[string]string{"name": "ro", "scope": "read"})
	ro := f.client()
	ro.bearer = tok["secret"].(string)
	if code, _, _ := ro.do("POST", "/api/v1/certificates/new", map[string]any{"domain": "corp.test"}); code != 403 {
		t.Fatalf("a read token making a certificate = %d, want 403", code)
	}
	if code, body, _ := ro.do("GET", "/api/v1/groups", nil); code != 200 || body["groups"] != nil && len(body["groups"].([]any)) != 0 {
		t.Fatalf("groups = %d %v", code, body)
	}
}

func TestConsolePagesNeedASession(t *testing.T) {
	f := newFixture(t)
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/console", "/console/users", "/console/settings", "/console/sources/new", "/console/certificates"} {
		resp, err := anon.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("%s anonymously = %d to %q, want a redirect to /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	c := f.client()
	c.signIn()
	for _, path := range []string{"/console", "/console/users?q=ali", "/console/users/alice", "/console/groups", "/console/runs", "/console/settings", "/console/certificates", "/console/sources/new"} {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		resp, err := c.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") || !strings.Contains(string(body), `name="csrf-token"`) {
			t.Errorf("%s = %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
		if strings.Contains(string(body), "deadbeef") {
			t.Errorf("%s shows a print code hash", path)
		}
	}
}

// Both figures count calendar days (UTC), whatever the hour: an expiry at
// midday ten days ahead reads 10 just after midnight and just before it.
// (The metrics once counted hours/24 and read 9 late in the day, and the
// test, expiring at now+10 days 1 hour, read 11 in the day's last hour.)
func TestExpiringDirectoryCertificateIsWarnedAndMeasured(t *testing.T) {
	f := newFixture(t)
	y, m, d := time.Now().UTC().Date()
	notAfter := time.Date(y, m, d+10, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{
		time.Date(y, m, d, 0, 30, 0, 0, time.UTC),
		time.Date(y, m, d, 23, 30, 0, 0, time.UTC),
	} {
		f.skew.Store(int64(time.Until(at)))
		c := f.client()
		c.signIn()
		if at.Hour() == 0 {
			code, src, _ := c.do("POST", "/api/v1/sources", articleSource())
			fid, ok := src["id"].(float64)
			if !ok {
				t.Fatalf("at %s, creating the source = %d %v", at.Format("15:04"), code, src)
			}
			id := int64(fid)
			if err := f.db.SetSourceCertificate(context.Background(), id, notAfter); err != nil {
				t.Fatal(err)
			}
		}
		for path, want := range map[string]string{
			"/console": "the directory&#39;s certificate expires in 10 days",
			"/metrics": "roster_directory_certificate_days_left{source=\"corp\"} 10\n",
		} {
			if body := c.page(t, path); !strings.Contains(body, want) {
				t.Errorf("at %s, %s lacks %q:\n%s", at.Format("15:04"), path, want, body)
			}
		}
	}
}

func TestSourceMappingRoundTrips(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	src := articleSource()
	src["mapping"] = map[string]any{"login": "userPrincipalName", "cards": []string{"pager"}, "extra": []string{"title"}, "keep_login_case": true}
	_, body, _ := c.do("POST", "/api/v1/sources", src)
	_, got, _ := c.do("GET", "/api/v1/sources/"+itoa(int(body["id"].(float64))), nil)
	m := got["mapping"].(map[string]any)
	if m["login"] != "userPrincipalName" || m["keep_login_case"] != true || len(m["extra"].([]any)) != 1 || len(m["cards"].([]any)) != 1 {
		t.Fatalf("mapping = %v", m)
	}
	src["mapping"] = map[string]any{"print_code": "employeeNumber", "extra": []string{"employeeNumber"}}
	src["name"] = "other"
	if code, body, _ := c.do("POST", "/api/v1/sources", src); code != 400 || !strings.Contains(f.responses[len(f.responses)-1], "kept in clear") {
		t.Fatalf("the print code as an extra = %d %v", code, body)
	}
}

// An address's failures lock that address, not the others: an attacker
// guessing names from one address does not lock the admin out. (Guessing
// the admin's own name locks the name from every address, after 5:
// TestAdminSignInLockedPerNameAcrossAddresses.)
func TestAnotherClientsFailuresDoNotLockTheAdminOut(t *testing.T) {
	f := newFixture(t)
	h := f.srv.Config.Handler
	name := "someone"
	login := func(addr, pw string, hdr map[string]string) int {
		body, _ := json.Marshal(map[string]string{"name": name, "password": pw})
		req := httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body))
		req.RemoteAddr = addr
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := 0; i < 8; i++ {
		login("203.0.113.7:4000", "attacker-guess", nil)
	}
	name = "admin"
	if code := login("203.0.113.7:4000", adminPassword, nil); code != 429 {
		t.Fatalf("the attacking address with the right password = %d, want 429", code)
	}
	if code := login("192.0.2.10:5000", adminPassword, nil); code != 200 {
		t.Fatalf("the admin from another address = %d, want 200", code)
	}
	if code := login("192.0.2.11:5000", adminPassword, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != 403 {
		t.Fatalf("a sign-in posted from another site = %d, want 403", code)
	}
	req := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"name":"admin","password":"`+adminPassword+`"}`))
	req.RemoteAddr = "192.0.2.12:5000"
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 {
		t.Fatalf("a text/plain sign-in (what a cross-site form sends) = %d, want 400", rec.Code)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("responses lack X-Content-Type-Options: nosniff")
	}
}

func TestSourceScheduleAndNextSync(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	src := articleSource()
	src["full_schedule"] = "0 2 * * *"
	code, body, _ := c.do("POST", "/api/v1/sources", src)
	if code != 201 || body["full_schedule"] != "0 2 * * *" || body["next_full_sync"] != "2026-11-26T02:00:00Z" {
		t.Fatalf("create with a schedule = %d %v", code, body)
	}
	src["name"], src["full_schedule"] = "other", "every night"
	if code, _, _ := c.do("POST", "/api/v1/sources", src); code != 400 || !strings.Contains(f.responses[len(f.responses)-1], "five fields") {
		t.Fatalf("a bad schedule = %d", code)
	}
	page := c.page(t, "/console")
	if !strings.Contains(page, "2026-11-26 02:00") {
		t.Fatal("the sources page does not show the next planned sync")
	}
}

func TestIncrementalIntervalAndOnDemandIncrementalSync(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	src := articleSource()
	src["incremental_interval"] = "5m"
	code, body, _ := c.do("POST", "/api/v1/sources", src)
	if code != 201 || body["incremental_interval"] != "5m0s" || body["next_incremental_sync"] != "2026-11-25T21:05:00Z" {
		t.Fatalf("create with an interval = %d %v", code, body)
	}
	for bad, want := range map[string]string{"10s": "too short", "often": "a duration such as 5m"} {
		src["name"], src["incremental_interval"] = "other-"+bad, bad
		if code, _, _ := c.do("POST", "/api/v1/sources", src); code != 400 || !strings.Contains(f.responses[len(f.responses)-1], want) {
			t.Fatalf("interval %q = %d %s", bad, code, f.responses[len(f.responses)-1])
		}
	}
	id := fmt.Sprint(body["id"])
	if code, _, _ := c.do("POST", "/api/v1/sources/"+id+"/sync?mode=incremental", nil); code != 202 {
		t.Fatalf("incremental sync = %d", code)
	}
	if code, _, _ := c.do("POST", "/api/v1/sources/"+id+"/sync", nil); code != 202 {
		t.Fatalf("full sync = %d", code)
	}
	if code, _, _ := c.do("POST", "/api/v1/sources/"+id+"/sync?mode=partial", nil); code != 400 {
		t.Fatalf("an unknown mode = %d, want 400", code)
	}
	f.syncer.mu.Lock()
	reqs := append([]roster.SyncRequest(nil), f.syncer.requests...)
	f.syncer.mu.Unlock()
	if len(reqs) != 2 || !reqs[0].Incremental || reqs[1].Incremental {
		t.Fatalf("requests %+v, want one incremental then one full", reqs)
	}
}

func TestAFailedFullSyncStaysVisibleBehindIncrementalOnes(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	code, body, _ := c.do("POST", "/api/v1/sources", articleSource())
	if code != 201 {
		t.Fatalf("create = %d %v", code, body)
	}
	id := int64(body["id"].(float64))
	ctx := context.Background()
	// More runs after it than a page of recent runs holds: a day of
	// incremental runs every 5 minutes, and write-back records.
	runs := []*roster.Run{{SourceID: id, Mode: roster.RunFull, Status: roster.RunFailed, Error: "the connection to the directory was cut"}}
	for i := range 501 {
		mode := roster.RunIncremental
		if i%10 == 0 {
			mode = roster.RunWriteBack
		}
		runs = append(runs, &roster.Run{SourceID: id, Mode: mode, Status: roster.RunSucceeded})
	}
	for _, r := range runs {
		status := r.Status
		r.StartedAt, r.Status = time.Now(), roster.RunRunning
		if err := f.db.StartRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Status = status
		if err := f.db.FinishRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	page := c.page(t, "/console")
	if !strings.Contains(page, "the last full sync (run 1) failed: the connection to the directory was cut") {
		t.Fatalf("the failed full sync is hidden by the incremental run after it:\n%s", page)
	}
}
