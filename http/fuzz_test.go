package http_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// fuzzRoute is a JSON endpoint and who calls it.
type fuzzRoute struct {
	method, path string
	caller       string // "anyone", "session" (with CSRF), "admin" or "terminal" (tokens)
	seeds        []string
}

// fuzzRoutes are the endpoints that read a JSON body, with the bodies
// the tests send them.
func fuzzRoutes(sourceID string) []fuzzRoute {
	pfxFile := base64.StdEncoding.EncodeToString([]byte("this is not a certificate at all"))
	return []fuzzRoute{
		{"POST", "/api/v1/login", "anyone", []string{`{"name": "admin", "password": "wrong"}`, `{"name": "admin"}`, `{}`}},
		{"POST", "/api/v1/password", "session", []string{`{"current": "x", "new": "Another-Long-Password-1"}`}},
		{"POST", "/api/v1/tokens", "session", []string{`{"name": "station", "scope": "terminal"}`, `{"name": "x", "scope": "read"}`, `{"name": "a\u0007b", "scope": "admin"}`}},
		{"POST", "/api/v1/sources", "admin", []string{
			`{"name": "corp", "type": "entra-ds", "address": "20.54.1.9", "tls": "ldaps", "domain": "aaddscontoso.com", "login": "svc-print", "password": "Bind-Password-Never-Shown-5"}`,
			`{"name": "lab", "type": "openldap", "address": "ldap.example.test:389", "tls": "starttls", "domain": "example.test", "login": "uid=svc,dc=example,dc=test", "password": "pw",
				"mapping": {"cards": ["printCardNumber"], "card_transforms": [{"op": "pad", "arg": "10"}]}, "full_schedule": "0 2 * * *", "incremental_interval": "5m",
				"removal_action": "delete", "removal_grace": "720h", "threshold_percent": 5, "user_filter": "(department=*)", "write_back": {"print_code": "printCode"}}`,
			`{"name": "bad", "type": "ad", "address": "h", "tls": "plain"}`, `{"name": "x", "bogus": 1}`}},
		{"PUT", "/api/v1/sources/" + sourceID, "admin", []string{
			`{"name": "corp", "type": "entra-ds", "address": "20.54.1.10", "tls": "ldaps", "domain": "aaddscontoso.com", "login": "svc-print"}`,
			`{"name": "corp", "type": "entra-ds", "address": "20.54.1.9", "tls": "ldaps", "domain": "aaddscontoso.com", "login": "svc-print", "full_schedule": "0 3 * * *"}`}},
		{"PUT", "/api/v1/sources/999", "admin", []string{`{"name": "corp", "type": "entra-ds", "address": "20.54.1.9", "tls": "ldaps", "domain": "aaddscontoso.com", "login": "svc-print", "password": "pw"}`}},
		{"POST", "/api/v1/sources/test", "admin", []string{
			`{"id": ` + sourceID + `, "name": "corp", "type": "entra-ds", "address": "20.54.1.9", "tls": "ldaps", "domain": "aaddscontoso.com", "login": "svc-print"}`,
			`{"id": 999, "name": "corp"}`}},
		{"POST", "/api/v1/cards/test", "admin", []string{`{"steps": ["extract=([0-9A-Fa-f]{8})", "reverse-bytes", "hex-to-dec", "pad=10"], "values": ["UID 04A1B2C3"]}`, `{"steps": ["rot13"], "values": ["1"]}`}},
		{"POST", "/api/v1/users/alice/cards", "admin", []string{`{"number": "Zürich-0042"}`, `{"number": "0042", "kind": "temporary", "expires_at": "2099-12-31T18:00:00Z"}`, `{"number": "a\u0085b"}`}},
		{"POST", "/api/v1/users/alice/print-code", "admin", []string{`{"length": 6}`, `{"length": 99}`, ``}},
		{"POST", "/api/v1/sources/" + sourceID + "/print-codes", "admin", []string{`{"length": 8}`, ``}},
		{"POST", "/api/v1/identify", "terminal", []string{`{"card": "0001"}`, `{"code": "111111"}`, `{"login": "alice", "password": "Alice-Right-1"}`, `{"login": "alice", "code": "1234"}`}},
		{"POST", "/api/v1/certificates/new", "admin", []string{`{"domain": "corp.test", "days": 365}`, `{"domain": "corp", "key_size": 1024}`}},
		{"POST", "/api/v1/certificates/check", "admin", []string{`{"file_base64": "` + pfxFile + `", "password": "pw", "domain": "corp.test"}`, `{"file_base64": "!"}`}},
	}
}

// FuzzJSONBodies sends any body to every endpoint that reads JSON, as
// each of its callers: the answer is never a server error, and every
// refusal has the one documented shape {"error": {"code", "message"}}.
func FuzzJSONBodies(f *testing.F) {
	fx := newFixture(f)
	admin := fx.client()
	admin.signIn()
	_, body, _ := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "fuzz admin", "scope": "admin"})
	adminToken, _ := body["secret"].(string)
	terminal := fx.terminal(admin)
	_, body, _ = admin.do("POST", "/api/v1/sources", articleSource())
	id, _ := body["id"].(float64)
	routes := fuzzRoutes(strconv.Itoa(int(id)))
	if adminToken == "" || terminal.bearer == "" || id == 0 {
		f.Fatalf("the fixture has no admin token, terminal token or source: %q %q %v", adminToken, terminal.bearer, id)
	}
	for i, r := range routes {
		for _, s := range r.seeds {
			f.Add(uint8(i), []byte(s), true)
		}
	}
	f.Add(uint8(0), []byte(`{"name": "admin", "password": "wrong"}`), false)
	handler := fx.srv.Config.Handler
	execs := 0
	f.Fuzz(func(t *testing.T, route uint8, body []byte, asJSON bool) {
		r := routes[int(route)%len(routes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		if asJSON {
			req.Header.Set("Content-Type", "application/json")
		}
		switch r.caller {
		case "session":
			for _, c := range admin.c.Jar.Cookies(req.URL) {
				req.AddCookie(c)
			}
			req.Header.Set("X-CSRF-Token", admin.csrf)
		case "admin":
			req.Header.Set("Authorization", "Bearer "+adminToken)
		case "terminal":
			req.Header.Set("Authorization", "Bearer "+terminal.bearer)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		checkAnswer(t, r, body, w.Result())

		// The fixture keeps what it sees; a long campaign must not grow it.
		if execs++; execs%1000 == 0 {
			fx.logs.mu.Lock()
			fx.logs.b.Reset()
			fx.logs.mu.Unlock()
			fx.syncer.mu.Lock()
			fx.syncer.tested, fx.syncer.started, fx.syncer.requests = nil, nil, nil
			fx.syncer.mu.Unlock()
		}
	})
}

// checkAnswer checks an answer to a fuzzed body.
func checkAnswer(t *testing.T, r fuzzRoute, body []byte, resp *http.Response) {
	t.Helper()
	raw := new(bytes.Buffer)
	raw.ReadFrom(resp.Body)
	where := r.method + " " + r.path
	if resp.StatusCode >= 500 {
		t.Fatalf("%s with %q: %d %s", where, body, resp.StatusCode, raw)
	}
	if resp.StatusCode == http.StatusNoContent {
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s with %q: %d answered as %q: %s", where, body, resp.StatusCode, ct, raw)
	}
	var answer map[string]json.RawMessage
	if err := json.Unmarshal(raw.Bytes(), &answer); err != nil {
		t.Fatalf("%s with %q: %d, not a JSON object: %v\n%s", where, body, resp.StatusCode, err, raw)
	}
	if resp.StatusCode < 400 {
		return
	}
	var e map[string]any
	if err := json.Unmarshal(answer["error"], &e); err != nil || len(e) != 2 {
		t.Fatalf("%s with %q: %d without the error shape: %s", where, body, resp.StatusCode, raw)
	}
	code, _ := e["code"].(string)
	message, _ := e["message"].(string)
	if message == "" || !slices.Contains([]string{roster.ECONFLICT, roster.EINVALID, roster.ENOTFOUND, roster.EUNAUTHORIZED,
		roster.EFORBIDDEN, roster.ETOOMANY}, code) {
		t.Fatalf("%s with %q: %d with the error %v", where, body, resp.StatusCode, e)
	}
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%s with %q: 429 without Retry-After", where, body)
	}
}
