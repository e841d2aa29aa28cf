package roster

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, value string
		wantErr     string // "" for accepted
	}{
		{"plain text is accepted", "print-room-2", ""},
		{"an empty value is accepted (emptiness is the caller's rule)", "", ""},
		{"letters of any script are accepted", "Café Zürich Ω 東京", ""},
		{"inner spaces are accepted", "badge 0012 34", ""},
		{"a NUL is refused", "12\x0034", "U+0000 at byte 2"},
		{"a newline is refused", "scanner\nfake log line", "U+000A at byte 7"},
		{"a tab is refused", "a\tb", "U+0009"},
		{"an escape sequence is refused", "\x1b[31mred", "U+001B at byte 0"},
		{"DEL is refused", "12\x7f", "U+007F"},
		{"a C1 control is refused", "12\u008534", "U+0085"},
		{"the last C1 control is refused", "\u009f", "U+009F"},
		{"invalid UTF-8 is refused", "12\xff", "not valid UTF-8"},
		{"U+FFFD written out is accepted", "\uFFFD", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckText("card number", tt.value)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckText(%q) = %v, want nil", tt.value, err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.wantErr) || !strings.Contains(ErrorMessage(err), "card number") {
				t.Fatalf("CheckText(%q) = %v, want EINVALID naming the card number and %q", tt.value, err, tt.wantErr)
			}
		})
	}
}
