package http_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func TestIdentify(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	_, body, _ := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "release station 1", "scope": "terminal"})
	secret, _ := body["secret"].(string)
	if secret == "" {
		t.Fatalf("terminal token: %v", body)
	}
	term := f.client()
	term.bearer = secret

	// Alice's code, made by roster and shown once.
	code, body, _ := admin.do("POST", "/api/v1/users/alice/print-code", map[string]int{"length": 6})
	pin, _ := body["code"].(string)
	if code != 200 || len(pin) != 6 || roster.TrivialPrintCode(pin) {
		t.Fatalf("new print code = %d %v", code, body)
	}
	// A temporary card of alice's that has expired, and bob (disabled)
	// with a card.
	ctx := context.Background()
	alice, _ := f.db.UserByLogin(ctx, "alice")
	bob, _ := f.db.UserByLogin(ctx, "bob")
	if err := f.db.AddCard(ctx, alice.ID, roster.Card{Number: "TEMP-1", Kind: roster.CardTemporary, ExpiresAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.AddCard(ctx, bob.ID, roster.Card{Number: "BOB-1"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		c      *client
		req    map[string]string
		status int
		want   string
	}{
		{"by card", term, map[string]string{"card": "0001"}, 200, `"login": "alice"`},
		{"by print code", term, map[string]string{"code": pin}, 200, `"method": "code"`},
		{"an unknown card", term, map[string]string{"card": "9999"}, 404, "no user holds this card"},
		{"an unknown code", term, map[string]string{"code": "000000"}, 404, "no user has this print code"},
		{"an expired card", term, map[string]string{"card": "TEMP-1"}, 403, "expired"},
		{"a disabled user", term, map[string]string{"card": "BOB-1"}, 403, "bob is disabled"},
		{"card and its holder's code", term, map[string]string{"card": "0001", "code": pin}, 200, `"method": "card+code"`},
		{"card, code and login", term, map[string]string{"card": "0001", "code": pin, "login": "alice"}, 400, "exactly one"},
		{"an admin in the console may test", admin, map[string]string{"card": "0001"}, 200, `"name": "Alice Martin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, _ := tt.c.do("POST", "/api/v1/identify", tt.req)
			if raw := f.responses[len(f.responses)-1]; status != tt.status || !strings.Contains(raw, tt.want) {
				t.Fatalf("identify %v = %d %s; want %d with %q", tt.req, status, raw, tt.status, tt.want)
			}
		})
	}

	// A terminal token does nothing else; a read token cannot identify.
	if status, _, _ := term.do("GET", "/api/v1/users", nil); status != 403 {
		t.Errorf("a terminal token listing users = %d, want 403", status)
	}
	if status, _, _ := term.do("POST", "/api/v1/users/alice/print-code", nil); status != 403 {
		t.Errorf("a terminal token setting codes = %d, want 403", status)
	}
	_, body, _ = admin.do("POST", "/api/v1/tokens", map[string]string{"name": "report", "scope": "read"})
	reader := f.client()
	reader.bearer, _ = body["secret"].(string)
	if status, _, _ := reader.do("POST", "/api/v1/identify", map[string]string{"card": "0001"}); status != 403 {
		t.Errorf("a read token identifying = %d, want 403", status)
	}

	// Guessing codes is slowed down: after 10 unknown codes in 5
	// minutes (one above), even the right one waits.
	for range 9 {
		term.do("POST", "/api/v1/identify", map[string]string{"code": "111111"})
	}
	if status, _, h := term.do("POST", "/api/v1/identify", map[string]string{"code": pin}); status != 429 || h.Get("Retry-After") == "" {
		t.Errorf("after 10 unknown codes = %d (Retry-After %q), want 429 with Retry-After", status, h.Get("Retry-After"))
	}

	// The audit log has every request, with neither the code nor the
	// whole card number.
	logs := f.logs.String()
	if n := strings.Count(logs, `"msg":"identify`); n < 8 {
		t.Errorf("%d identify lines in the log", n)
	}
	if strings.Contains(logs, pin) || strings.Contains(logs, `"card":"TEMP-1"`) || !strings.Contains(logs, `"card":"**MP-1"`) {
		t.Errorf("the audit log shows a code or a whole card:\n%s", logs)
	}
	// The code is shown once: in the answer that set it.
	if n := strings.Count(strings.Join(f.responses, "\n"), pin); n != 1 {
		t.Errorf("responses show the print code %d times, want once", n)
	}
}

func TestIdentifyByPassword(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	term := f.terminal(admin)
	try := func(login, pw string) (int, string) {
		status, _, _ := term.do("POST", "/api/v1/identify", map[string]string{"login": login, "password": pw})
		return status, f.responses[len(f.responses)-1]
	}
	if status, raw := try("alice", "Alice-Right-1"); status != 200 || !strings.Contains(raw, `"method": "password"`) {
		t.Fatalf("the right password = %d %s", status, raw)
	}
	// The typed login is compared as logins are stored: trimmed, NFC.
	if status, raw := try(" alice\t", "Alice-Right-1"); status != 200 {
		t.Fatalf("the login typed with spaces around it = %d %s", status, raw)
	}
	if status, _ := try("   ", "x"); status != 400 {
		t.Fatalf("a login of spaces = %d, want 400 (no login given)", status)
	}
	// Every refusal of a named person is the same answer: the terminal
	// cannot tell a wrong password from an unknown login or a disabled
	// account. The log keeps the reason.
	_, refused := try("nobody", "x")
	if !strings.Contains(refused, "wrong login or password") {
		t.Fatalf("an unknown login = %s", refused)
	}
	same := func(what, login, pw string) {
		t.Helper()
		if status, raw := try(login, pw); status != 401 || raw != refused {
			t.Fatalf("%s = %d %s; want the same 401 as an unknown login: %s", what, status, raw, refused)
		}
	}
	same("a wrong password", "alice", "wrong")
	if !strings.Contains(f.logs.String(), "52e") {
		t.Errorf("the log lacks the directory's reason:\n%s", f.logs.String())
	}
	// bob is disabled: refused without a bind, which would only count
	// against his directory account.
	before := f.binds.Load()
	same("a disabled user", "bob", "anything")
	if f.binds.Load() != before || !strings.Contains(f.logs.String(), "bob is disabled") {
		t.Fatalf("a disabled user: binds %d -> %d, log:\n%s", before, f.binds.Load(), f.logs.String())
	}
	// Three wrong passwords for alice (one above): her password locks at
	// every terminal before the directory would lock her out, even for
	// the right password, with no bind; and the answer is the same.
	try("alice", "wrong")
	try("alice", "wrong")
	before = f.binds.Load()
	same("the right password while locked", "alice", "Alice-Right-1")
	if f.binds.Load() != before {
		t.Fatalf("a locked password was checked with the directory")
	}
	other := f.terminal(admin)
	if status, _, _ := other.do("POST", "/api/v1/identify", map[string]string{"login": "alice", "password": "Alice-Right-1"}); status != 401 {
		t.Fatalf("the lock must hold at another terminal: %d", status)
	}
	// The admin sees the lock, and clears it.
	_, body, _ := admin.do("GET", "/api/v1/lockouts", nil)
	alice, _ := f.db.UserByLogin(context.Background(), "alice")
	key := roster.PasswordLockoutKey(alice.ID)
	if !strings.Contains(f.responses[len(f.responses)-1], `"key": "`+key+`"`) || !strings.Contains(f.responses[len(f.responses)-1], `"locked": true`) {
		t.Fatalf("GET /api/v1/lockouts does not show alice's lock: %v", body)
	}
	if status, _, _ := admin.do("DELETE", "/api/v1/lockouts/"+key, nil); status != 204 {
		t.Fatalf("clearing the lock = %d", status)
	}
	if status, raw := try("alice", "Alice-Right-1"); status != 200 {
		t.Fatalf("after the admin cleared the lock = %d %s", status, raw)
	}
	// A login that two sources hold: which directory to ask is unknown,
	// and asking the wrong one would count against the other person.
	ctx := context.Background()
	lab, _ := f.db.SourceID(ctx, "lab")
	if _, err := f.db.Apply(ctx, lab, []roster.Change{{Kind: roster.Create, User: &roster.User{Anchor: "c9", DN: "CN=Carol,DC=lab,DC=test", Login: "carol", Name: "Carol Lab"}}}); err != nil {
		t.Fatal(err)
	}
	corp, _ := f.db.SourceID(ctx, "corp")
	if _, err := f.db.Apply(ctx, corp, []roster.Change{{Kind: roster.Create, User: &roster.User{Anchor: "c1", DN: "CN=Carol,DC=corp,DC=test", Login: "carol", Name: "Carol Corp"}}}); err != nil {
		t.Fatal(err)
	}
	before = f.binds.Load()
	same("a login of two sources", "carol", "Carol-1")
	if f.binds.Load() != before {
		t.Fatalf("a login of two sources was checked with a directory")
	}
	if !strings.Contains(f.logs.String(), "the source lab") || !strings.Contains(f.logs.String(), "the source corp") {
		t.Errorf("the log does not name both sources:\n%s", f.logs.String())
	}
	if status, _, _ := term.do("POST", "/api/v1/identify", map[string]string{"login": "alice"}); status != 400 {
		t.Fatalf("a login without password = %d", status)
	}
	if strings.Contains(f.logs.String(), "Alice-Right-1") || strings.Contains(strings.Join(f.responses, ""), "Alice-Right-1") {
		t.Fatal("the password shows in the log or a response")
	}
}

func TestCardTestBench(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	status, body, _ := admin.do("POST", "/api/v1/cards/test", map[string]any{
		"steps": []string{"reverse-bytes", "hex-to-dec", "", "pad=12"}, "values": []string{"04A1B2C3", "xyz"}})
	if status != 200 {
		t.Fatalf("test = %d %v", status, body)
	}
	res := body["results"].([]any)
	first, second := res[0].(map[string]any), res[1].(map[string]any)
	if first["result"] != "003283263748" || len(first["steps"].([]any)) != 3 {
		t.Errorf("04A1B2C3 gave %v", first)
	}
	if second["error"] == nil || len(second["steps"].([]any)) != 1 {
		t.Errorf("xyz gave %v", second)
	}
	if status, _, _ := admin.do("POST", "/api/v1/cards/test", map[string]any{"steps": []string{"rot13"}, "values": []string{"1"}}); status != 400 {
		t.Errorf("an unknown step = %d", status)
	}
	page := admin.page(t, "/console/cards")
	if !strings.Contains(page, "Card test bench") || !strings.Contains(page, "remove-facility") {
		t.Errorf("the console page:\n%s", page)
	}
}

func TestManualCards(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	// The login as typed in another case finds the user, as GET does.
	status, body, _ := admin.do("POST", "/api/v1/users/Alice/cards", map[string]any{"number": "VISITOR-7", "kind": "temporary", "expires_at": until})
	if status != 201 || len(body["cards"].([]any)) != 2 {
		t.Fatalf("add = %d %v", status, body)
	}
	// A card number belongs to one user: bob cannot have alice's, and
	// the refusal names both.
	if status, _, _ := admin.do("POST", "/api/v1/users/bob/cards", map[string]any{"number": "VISITOR-7"}); status != 409 ||
		!strings.Contains(f.responses[len(f.responses)-1], "alice") || !strings.Contains(f.responses[len(f.responses)-1], "bob") {
		t.Fatalf("a taken card = %d %s", status, f.responses[len(f.responses)-1])
	}
	for _, bad := range []map[string]any{
		{"number": "T-1", "kind": "temporary"},
		{"number": "T-1", "expires_at": time.Now().Add(-time.Hour)},
		{"number": "T-1", "kind": "gold"},
		{"number": ""},
	} {
		if status, _, _ := admin.do("POST", "/api/v1/users/alice/cards", bad); status != 400 {
			t.Errorf("add %v = %d, want 400", bad, status)
		}
	}
	if status, _, _ := admin.do("DELETE", "/api/v1/users/alice/cards/0001", nil); status != 400 {
		t.Errorf("removing a directory card = %d, want 400", status)
	}
	if status, _, _ := admin.do("DELETE", "/api/v1/users/alice/cards/VISITOR-7", nil); status != 204 {
		t.Errorf("remove = %d", status)
	}
	if status, _, _ := admin.do("DELETE", "/api/v1/users/alice/cards/VISITOR-7", nil); status != 404 {
		t.Errorf("remove again = %d", status)
	}
	// The access log masks the number in the path, as the audit does.
	if logs := f.logs.String(); strings.Contains(logs, "VISITOR-7") || !strings.Contains(logs, "/cards/*****OR-7") {
		t.Errorf("the access log shows the card number, or not its masked form:\n%s", logs)
	}
}

// The console's source form carries the card transform and the
// write-back attributes, so that saving it keeps them.
func TestSourceFormKeepsCardTransformAndWriteBack(t *testing.T) {
	f := newFixture(t)
	admin := f.client()
	admin.signIn()
	src := articleSource()
	src["mapping"] = map[string]any{"card_transforms": []map[string]string{{"op": "reverse-bytes"}, {"op": "pad", "arg": "10"}}}
	src["write_back"] = map[string]string{"print_code": "employeeNumber"}
	status, body, _ := admin.do("POST", "/api/v1/sources", src)
	if status != 201 {
		t.Fatalf("create = %d %v", status, body)
	}
	id := itoa(int(body["id"].(float64)))
	if wb, _ := body["write_back"].(map[string]any); wb["print_code"] != "employeeNumber" {
		t.Fatalf("the API lost write_back: %v", body)
	}
	page := admin.page(t, "/console/sources/"+id)
	for _, want := range []string{"reverse-bytes\npad=10", `name="write_print_code" value="employeeNumber"`, `id="write-test"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the source page lacks %q", want)
		}
	}
	// A write-back attribute the mapping does not read is refused.
	src["name"], src["write_back"] = "other", map[string]string{"print_code": "pager"}
	if status, _, _ := admin.do("POST", "/api/v1/sources", src); status != 400 {
		t.Errorf("write-back to an attribute the mapping does not read = %d, want 400", status)
	}
}
