package ldap

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

func TestCheckFilter(t *testing.T) {
	tests := []struct {
		name, extra string
		wantErr     string // "" for accepted
	}{
		{"no filter is accepted", "", ""},
		{"a filter in parentheses is accepted", "(department=Sales)", ""},
		{"a filter without parentheses is accepted, as a sync wraps it", "department=Sales", ""},
		{"an AND of two terms is accepted", "(&(department=Sales)(title=*))", ""},
		{"two terms side by side are accepted, as the sync ANDs them", "(department=Sales)(title=*)", ""},
		{"an escaped parenthesis is accepted", `(cn=a\28b\29)`, ""},
		{"an unclosed parenthesis is refused", "(department=Sales", "unexpected end of filter"},
		{"a term that closes the sync's AND is refused", "(a=1))(b=2", "extra at end"},
		{"a term without an equals sign is refused", "(department)", "not a valid LDAP filter"},
		{"a bad escape is refused", `(cn=a\zz)`, "not a valid LDAP filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFilter(tt.extra)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckFilter(%q) = %v, want nil", tt.extra, err)
				}
				return
			}
			msg := roster.ErrorMessage(err)
			if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, "user filter") {
				t.Fatalf("CheckFilter(%q) = %v, want EINVALID naming the user filter and %q", tt.extra, err, tt.wantErr)
			}
		})
	}
}
