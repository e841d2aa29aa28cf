package ldap_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/ldap"
)

// The lean decoder of search result entries gives, for every user of the
// lab's directories and every attribute they hold (binary objectGUIDs,
// UTF-8 names, multi-valued cards), what go-ldap's decoder gives.
func TestLabLeanEntriesEqualGoLDAPs(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range []struct {
		name   string
		dir    labenv.Directory
		mode   roster.TLSMode
		anchor string
	}{
		{"AD over LDAPS", labenv.AD, roster.LDAPS, "objectGUID"},
		{"AD over StartTLS", labenv.AD, roster.StartTLS, "objectGUID"},
		{"OpenLDAP over LDAPS", labenv.OpenLDAP, roster.LDAPS, "entryUUID"},
		{"OpenLDAP over StartTLS", labenv.OpenLDAP, roster.StartTLS, "entryUUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := env.Source(t, tc.dir, tc.mode)
			read := func(lean bool) map[string]string {
				defer ldap.SetLeanDecoding(lean)()
				c := connect(t, src)
				out := map[string]string{}
				_, err := c.Search(context.Background(), ldap.SearchRequest{
					BaseDN: src.SearchBases()[0], Scope: ldap.ScopeSubtree,
					Filter: userFilter(tc.dir), Attributes: []string{"*", tc.anchor},
				}, func(e *ldap.Entry) error {
					out[e.DN] = describe(e)
					return nil
				})
				if err != nil {
					t.Fatalf("Search (lean %v): %v", lean, err)
				}
				return out
			}
			lean, goldap := read(true), read(false)
			if len(goldap) == 0 || len(lean) != len(goldap) {
				t.Fatalf("the lean decoder read %d entries, go-ldap's %d", len(lean), len(goldap))
			}
			for dn, want := range goldap {
				if got := lean[dn]; got != want {
					t.Fatalf("%s:\nlean:    %s\ngo-ldap: %s", dn, got, want)
				}
			}
		})
	}
}

// describe writes an entry's attributes as sent, with their values in hex.
func describe(e *ldap.Entry) string {
	var b strings.Builder
	for _, n := range e.Names() {
		fmt.Fprintf(&b, "%s:", n)
		vals := e.Values(n)
		for _, v := range vals {
			b.WriteString(" " + hex.EncodeToString([]byte(v)))
		}
		b.WriteString("; ")
	}
	return b.String()
}
