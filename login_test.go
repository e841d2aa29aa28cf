package roster

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestNormalizeLogin(t *testing.T) {
	for _, tt := range []struct {
		name, login, want string
	}{
		{"a plain login stays", "jsmith", "jsmith"},
		{"case is kept", "JSmith", "JSmith"},
		{"leading and trailing spaces go", "  jsmith ", "jsmith"},
		{"tabs, newlines and no-break spaces go", "\t\u00a0jsmith\r\n", "jsmith"},
		{"inner spaces stay", "j smith", "j smith"},
		{"a decomposed accent is composed", "jose\u0301", "jos\u00e9"},
		{"a composed accent stays", "jos\u00e9", "jos\u00e9"},
		{"Hangul jamo are composed", "\u1100\u1161", "\uac00"},
		{"spaces only are no login", "   ", ""},
		{"nothing is no login", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeLogin(tt.login); got != tt.want {
				t.Errorf("NormalizeLogin(%q) = %q, want %q", tt.login, got, tt.want)
			}
		})
	}
}

func FuzzNormalizeLogin(f *testing.F) {
	for _, s := range []string{"jsmith", " jose\u0301 ", "\u00a0", "a\u0301\u0300", "\u2000x\u2000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeLogin(s)
		if NormalizeLogin(n) != n {
			t.Errorf("NormalizeLogin is not stable for %q: %q", s, n)
		}
		if utf8.ValidString(s) && !norm.NFC.IsNormalString(n) {
			t.Errorf("NormalizeLogin(%q) = %q, not NFC", s, n)
		}
	})
}
