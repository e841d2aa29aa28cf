package ldap

import (
	"errors"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

func TestWriteErrorsSayWhatToDo(t *testing.T) {
	dn := "CN=Test User,OU=AADDC Users,DC=corp,DC=test"
	tests := []struct {
		typ  roster.DirectoryType
		rc   uint16
		code string
		want string
	}{
		{roster.ActiveDirectory, goldap.LDAPResultInsufficientAccessRights, roster.EFORBIDDEN, "svc-print@corp.test may not write employeeNumber"},
		{roster.EntraDS, goldap.LDAPResultInsufficientAccessRights, roster.EFORBIDDEN, "synced from Microsoft Entra ID are read-only"},
		{roster.EntraDS, goldap.LDAPResultUnwillingToPerform, roster.EFORBIDDEN, "Set the attribute in Entra ID"},
		{roster.OpenLDAP, goldap.LDAPResultUndefinedAttributeType, roster.EINVALID, "cannot hold the attribute employeeNumber"},
		{roster.OpenLDAP, goldap.LDAPResultObjectClassViolation, roster.EINVALID, "choose another attribute"},
		{roster.ActiveDirectory, goldap.LDAPResultNoSuchObject, roster.ENOTFOUND, "run a sync"},
		// A dropped connection is an outage, not a refusal.
		{roster.OpenLDAP, goldap.ErrorNetwork, roster.EUNAVAILABLE, "the connection to 127.0.0.1:636 failed during the write of employeeNumber"},
		{roster.OpenLDAP, goldap.LDAPResultBusy, roster.EINTERNAL, "refused the write of employeeNumber on CN=Test User"},
	}
	for _, tt := range tests {
		c := &Conn{src: &roster.Source{Type: tt.typ, Login: "svc-print@corp.test"}, addr: "127.0.0.1:636"}
		err := c.writeError(dn, "employeeNumber", goldap.NewError(tt.rc, errors.New("server said no")))
		if roster.ErrorCode(err) != tt.code || !strings.Contains(roster.ErrorMessage(err), tt.want) {
			t.Errorf("%s rc %d: %s %q; want %s with %q", tt.typ, tt.rc, roster.ErrorCode(err), roster.ErrorMessage(err), tt.code, tt.want)
		}
	}
}

func TestReplaceFirst(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, []string{"9"}},
		{[]string{"1111"}, []string{"9"}},
		{[]string{"1111", "2222"}, []string{"9", "2222"}},
		{[]string{"1111;2222,3333"}, []string{"9;2222,3333"}},
	}
	for _, tt := range tests {
		if got := replaceFirst(tt.in, ";,", "9"); !slices.Equal(got, tt.want) {
			t.Errorf("replaceFirst(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
