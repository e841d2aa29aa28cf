package http_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// Codes for every enabled user of a source without one, shown once: users
// with a code keep it, disabled users get none, and each code identifies
// its user at a terminal.
func TestBulkPrintCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	corp, _ := f.db.SourceID(ctx, "corp")
	if _, err := f.db.Apply(ctx, corp, []roster.Change{
		{Kind: roster.Create, User: &roster.User{Anchor: "c1", DN: "CN=Carol,DC=corp,DC=test", Login: "carol", Name: "Carol Jones", Email: "carol@corp.test"}},
		{Kind: roster.Create, User: &roster.User{Anchor: "d1", DN: "CN=Dave,DC=corp,DC=test", Login: "dave", Name: "Dave Brown"}},
	}); err != nil {
		t.Fatal(err)
	}
	admin := f.client()
	admin.signIn()
	// The console sets the source up: the users above are its users.
	if status, body, _ := admin.do("POST", "/api/v1/sources", articleSource()); status != 201 || body["id"] != float64(corp) {
		t.Fatalf("set up corp = %d %v; want the ID %d", status, body, corp)
	}
	path := fmt.Sprintf("/api/v1/sources/%d/print-codes", corp)
	if status, _, _ := admin.do("POST", "/api/v1/sources/999/print-codes", nil); status != 404 {
		t.Fatalf("codes for a source that does not exist = %d, want 404", status)
	}

	if status, _, _ := admin.do("POST", path, map[string]int{"length": 5}); status != 400 {
		t.Fatalf("a 5-digit code = %d, want 400: too short to hold against guessing", status)
	}
	status, body, _ := admin.do("POST", path, map[string]int{"length": 7})
	if status != 200 || body["generated"] != 2.0 {
		t.Fatalf("bulk codes = %d %v", status, body)
	}
	codes := map[string]string{}
	for _, c := range body["codes"].([]any) {
		m := c.(map[string]any)
		code := m["code"].(string)
		if len(code) != 7 || roster.TrivialPrintCode(code) {
			t.Errorf("the code of %v is not 7 non-trivial digits", m)
		}
		codes[m["login"].(string)] = code
	}
	if len(codes) != 2 || codes["carol"] == "" || codes["dave"] == "" || codes["carol"] == codes["dave"] {
		t.Fatalf("codes for %v; want carol and dave, different", codes)
	}
	if alice, _ := f.db.UserByLogin(ctx, "alice"); alice.PrintCodeHash != "deadbeef" {
		t.Errorf("alice's code changed: %q", alice.PrintCodeHash)
	}
	if bob, _ := f.db.UserByLogin(ctx, "bob"); bob.PrintCodeHash != "" {
		t.Errorf("disabled bob got a code")
	}

	term := f.terminal(admin)
	for login, code := range codes {
		status, body, _ := term.do("POST", "/api/v1/identify", map[string]string{"code": code})
		if user, _ := body["user"].(map[string]any); status != 200 || user["login"] != login {
			t.Errorf("identify by %s's code = %d %v", login, status, body)
		}
	}

	// Again: nobody is left without a code.
	if status, body, _ := admin.do("POST", path, nil); status != 200 || body["generated"] != 0.0 {
		t.Fatalf("bulk codes again = %d %v", status, body)
	}
	for _, code := range codes {
		if strings.Contains(f.logs.String(), code) {
			t.Fatalf("the log shows a code:\n%s", f.logs.String())
		}
	}
}
