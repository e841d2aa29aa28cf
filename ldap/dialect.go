package ldap

import (
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// UserFilter returns the filter that selects people in a directory of the
// given type, ANDed with the admin's extra filter if there is one. On AD,
// objectCategory=person keeps computer accounts out (computers are
// objectClass=user too).
func UserFilter(t roster.DirectoryType, extra string) string {
	f := "(objectClass=person)"
	if t.IsAD() {
		f = "(&(objectCategory=person)(objectClass=user))"
	}
	if extra == "" {
		return f
	}
	if extra[0] != '(' {
		extra = "(" + extra + ")"
	}
	return "(&" + f + extra + ")"
}

// CheckFilter compiles the admin's extra user filter as a sync will send
// it (see UserFilter), without a directory. It returns nil for "" or a
// filter that compiles, else an *roster.Error with code EINVALID that
// gives the parser's reason.
func CheckFilter(extra string) error {
	if extra == "" {
		return nil
	}
	if _, err := goldap.CompileFilter(UserFilter(roster.OpenLDAP, extra)); err != nil {
		return errBadFilter(extra, err)
	}
	return nil
}

// UACDisabled is the ACCOUNTDISABLE bit of AD's userAccountControl.
const UACDisabled = 0x2
