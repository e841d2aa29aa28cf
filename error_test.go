package roster_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rosterhq/roster"
)

func TestErrorCodeAndMessage(t *testing.T) {
	cause := errors.New("LDAP Result Code 49")
	rerr := &roster.Error{Code: roster.EUNAUTHORIZED, Op: "ldap.Bind", Message: "wrong password", Err: cause}
	wrapped := fmt.Errorf("connect: %w", rerr)

	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil has no code", nil, "", ""},
		{"a roster error keeps its code through wrapping", wrapped, roster.EUNAUTHORIZED, "wrong password"},
		{"a foreign error is internal and says nothing more", cause, roster.EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roster.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode() = %q, want %q", got, tt.wantCode)
			}
			if got := roster.ErrorMessage(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessage() = %q, want %q", got, tt.wantMsg)
			}
		})
	}
	if !errors.Is(wrapped, cause) {
		t.Error("the cause is not reachable with errors.Is")
	}
	if got := rerr.Error(); got != "ldap.Bind: wrong password" {
		t.Errorf("Error() = %q", got)
	}
}
