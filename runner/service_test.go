package runner

import (
	"errors"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// A terminal reads AD's reason under the person's login, never the
// entry's DN; any other refusal is only "wrong login or password".
func TestForTerminal(t *testing.T) {
	u := &roster.User{Login: "jdoe", DN: "CN=John Doe,OU=AADDC Users,DC=corp,DC=test"}
	// As the ldap package reports AD's refusal: its words, and the answer.
	ad := &roster.Error{Code: roster.EUNAUTHORIZED, Message: "the directory rejected the login CN=John Doe,OU=AADDC Users,DC=corp,DC=test: the account is locked out (AD code 775)",
		Err: goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("80090308: LdapErr: DSID-0C090447, comment: AcceptSecurityContext error, data 775, v3839"))}
	if got := roster.ErrorMessage(forTerminal(ad, u)); strings.Contains(got, "CN=") || !strings.Contains(got, "jdoe") || !strings.Contains(got, "locked") {
		t.Errorf("AD reason for a terminal: %q", got)
	}
	ol := &roster.Error{Code: roster.EUNAUTHORIZED, Message: "the directory rejected the login uid=jdoe,ou=people: wrong DN or password (LDAP code 49)",
		Err: goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("invalid credentials"))}
	if got := roster.ErrorMessage(forTerminal(ol, u)); got != "wrong login or password" {
		t.Errorf("OpenLDAP refusal for a terminal: %q", got)
	}
	other := roster.Errorf(roster.EUNAVAILABLE, "cannot reach the directory")
	if forTerminal(other, u) != other {
		t.Error("a non-credential error was rewritten")
	}
}
