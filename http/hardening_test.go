package http_test

import (
	"crypto/tls"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// Served over TLS (roster serve -tls-cert), every answer asks browsers to
// keep to HTTPS; over plain HTTP, none does.
func TestHSTSOnlyOverTLS(t *testing.T) {
	f := newFixture(t)
	h := f.srv.Config.Handler
	for _, path := range []string{"/healthz", "/api/v1/me", "/console/login", "/api/v1/no-such-route"} {
		req := httptest.NewRequest("GET", path, nil)
		req.TLS = &tls.ConnectionState{HandshakeComplete: true}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
			t.Errorf("GET %s over TLS = %d, Strict-Transport-Security %q, want max-age=31536000", path, rec.Code, got)
		}
		req = httptest.NewRequest("GET", path, nil)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
			t.Errorf("GET %s over plain HTTP sent Strict-Transport-Security %q", path, got)
		}
	}
}

// A terminal refused by a rate limit is told when to come back, in
// seconds, from the limiter's own wait (5 minutes at most).
func TestIdentifyTooManyCarriesRetryAfter(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	term := f.terminal(admin)
	for _, req := range []map[string]string{{"code": "0000"}, {"login": "nobody", "password": "x"}} {
		var status int
		var body map[string]any
		var hdr map[string][]string
		for i := 0; i < 40 && status != 429; i++ {
			status, body, hdr = term.do("POST", "/api/v1/identify", req)
		}
		if status != 429 || errCode(body) != roster.ETOOMANY {
			t.Fatalf("identify %v, 40 times = %d %v, want 429", req, status, body)
		}
		secs, err := strconv.Atoi(strings.Join(hdr["Retry-After"], ""))
		if err != nil || secs < 1 || secs > 300 {
			t.Errorf("identify %v: 429 with Retry-After %q, want 1 to 300 seconds", req, hdr["Retry-After"])
		}
	}
}

// Control characters cannot be typed at a terminal or read in the
// console, and forge lines in logs: card numbers, token and source names
// that hold one are refused, naming the field.
func TestControlCharactersAreRefused(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	for _, bad := range []string{"12\n34", "12\x0034", "\x1b[2J", "12\x7f", "12\u008534"} {
		status, body, _ := admin.do("POST", "/api/v1/users/alice/cards", map[string]any{"number": bad})
		if status != 400 || errCode(body) != roster.EINVALID || !strings.Contains(f.responses[len(f.responses)-1], "card number holds a control character") {
			t.Errorf("card number %q = %d %v, want 400 naming the card number", bad, status, body)
		}
		status, body, _ = admin.do("POST", "/api/v1/tokens", map[string]string{"name": "station" + bad, "scope": "terminal"})
		if status != 400 || !strings.Contains(f.responses[len(f.responses)-1], "token name holds a control character") {
			t.Errorf("token name with %q = %d %v, want 400 naming the token name", bad, status, body)
		}
		src := articleSource()
		src["name"] = "corp" + bad
		status, body, _ = admin.do("POST", "/api/v1/sources", src)
		if status != 400 || !strings.Contains(f.responses[len(f.responses)-1], "source name holds a control character") {
			t.Errorf("source name with %q = %d %v, want 400 naming the source name", bad, status, body)
		}
	}
	if status, body, _ := admin.do("POST", "/api/v1/users/alice/cards", map[string]any{"number": "Zürich-0042"}); status != 201 {
		t.Errorf("a card number with an accent = %d %v, want 201", status, body)
	}
	if status, body, _ := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "Imprimante étage 2", "scope": "terminal"}); status != 201 {
		t.Errorf("a token name with an accent = %d %v, want 201", status, body)
	}
}

// A user filter that does not compile is refused when the source is
// saved, created or replaced, with the parser's reason; not at sync.
func TestSourceWithABadUserFilterIsRefused(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	src := articleSource()
	src["user_filter"] = "(department=Sales"
	status, body, _ := admin.do("POST", "/api/v1/sources", src)
	if status != 400 || errCode(body) != roster.EINVALID || !strings.Contains(f.responses[len(f.responses)-1], "unexpected end of filter") {
		t.Fatalf("creating a source with an unclosed user filter = %d %v, want 400 with the reason", status, body)
	}
	src["user_filter"] = "(department=Sales)"
	status, body, _ = admin.do("POST", "/api/v1/sources", src)
	if status != 201 {
		t.Fatalf("creating a source with a good user filter = %d %v", status, body)
	}
	id := strconv.Itoa(int(body["id"].(float64)))
	src["user_filter"] = "(&(department=Sales)"
	if status, body, _ = admin.do("PUT", "/api/v1/sources/"+id, src); status != 400 || errCode(body) != roster.EINVALID {
		t.Fatalf("replacing the filter with an unclosed one = %d %v, want 400", status, body)
	}
	_, body, _ = admin.do("GET", "/api/v1/sources/"+id, nil)
	if got := body["user_filter"]; got != "(department=Sales)" {
		t.Errorf("after the refused update, user_filter = %v, want the one saved", got)
	}
	// The connection test says so too, before it asks the directory.
	tested := len(f.syncer.tested)
	if status, body, _ = admin.do("POST", "/api/v1/sources/test", src); status != 400 || errCode(body) != roster.EINVALID || len(f.syncer.tested) != tested {
		t.Fatalf("testing a source with an unclosed filter = %d %v (tests made %d -> %d), want 400 and no test", status, body, tested, len(f.syncer.tested))
	}
}
