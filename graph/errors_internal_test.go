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
