package ldap

import "github.com/rosterhq/roster"

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

// UACDisabled is the ACCOUNTDISABLE bit of AD's userAccountControl.
const UACDisabled = 0x2
