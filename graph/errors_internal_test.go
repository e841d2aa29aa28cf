package graph

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

// An answer roster has no words of its own for quotes Graph's message,
// the one thing an admin can act on there, cut short and valid UTF-8.
func TestAnUnknownRefusalQuotesGraph(t *testing.T) {
	body := `{"error":{"code":"Request_BadRequest","message":"Property 'extension_abc_badge' does not exist as a declared property or extension property."}}`
	msg := roster.ErrorMessage(graphError(400, []byte(body), 1))
	if !strings.Contains(msg, "HTTP 400 Request_BadRequest") || !strings.Contains(msg, "Property 'extension_abc_badge' does not exist") {
		t.Errorf("a 400: %q", msg)
	}
	long := `{"error":{"code":"X","message":"` + strings.Repeat("é", 400) + `"}}`
	if msg := roster.ErrorMessage(graphError(400, []byte(long), 1)); !utf8.ValidString(msg) || len(msg) > 400 {
		t.Errorf("a long message: %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
	}
}

func TestCanWriteTakesEitherWritePermission(t *testing.T) {
	for roles, want := range map[string]bool{
		"User.Read.All":                           false,
		"User.Read.All User.ReadWrite.All":        true,
		"Directory.ReadWrite.All":                 true,
		"Directory.Read.All GroupMember.Read.All": false,
	} {
		if got := CanWrite(strings.Fields(roles)); got != want {
			t.Errorf("CanWrite(%s) = %v", roles, got)
		}
	}
}

// A write's errors never carry the value written (a print code), even
// when Graph's answer repeats it.
func TestAWritesErrorHidesTheValue(t *testing.T) {
	body := `{"error":{"code":"Request_BadRequest","message":"Invalid value '482913' for property 'extension_abc_pin'."}}`
	err := withoutValue(graphError(400, []byte(body), 1), "482913")
	if strings.Contains(err.Error(), "482913") || strings.Contains(roster.ErrorMessage(err), "482913") {
		t.Fatalf("the value is in the error: %v", err)
	}
	if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(roster.ErrorMessage(err), "Invalid value '(the value)' for property 'extension_abc_pin'") {
		t.Errorf("the error lost its code or its words: %s: %s", roster.ErrorCode(err), roster.ErrorMessage(err))
	}
	plain := graphError(400, []byte(body), 1)
	if got := withoutValue(plain, "999999"); got != plain {
		t.Errorf("an error without the value changed: %v", got)
	}
}
