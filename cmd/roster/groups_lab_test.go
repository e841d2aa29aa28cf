package main

import (
	"fmt"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
)

// TestGroupRemovalsAreHeldUntilApproved deletes 11 of 12 groups on
// OpenLDAP: the next sync holds their removal (exit 3) and keeps every
// membership, runs show names the groups, and -approve-removals lets
// them go.
func TestGroupRemovalsAreHeldUntilApproved(t *testing.T) {
	env := labenv.Require(t)
	c := env.Admin(t, labenv.OpenLDAP)
	base := testBase(t, env, c, labenv.OpenLDAP)
	var groups []string
	for i := 0; i < 12; i++ {
		user := addUser(t, c, labenv.OpenLDAP, base, fmt.Sprintf("grpuser%02d", i))
		dn := fmt.Sprintf("cn=grp%02d,%s", i, base)
		g := goldap.NewAddRequest(dn, nil)
		g.Attribute("objectClass", []string{"groupOfNames"})
		g.Attribute("cn", []string{fmt.Sprintf("grp%02d", i)})
		g.Attribute("member", []string{user})
		if err := c.Add(g); err != nil {
			t.Fatalf("adding %s: %v", dn, err)
		}
		groups = append(groups, dn)
	}
	data := t.TempDir()
	args := syncArgs(env, labenv.OpenLDAP, data, "groups", base)
	if r := syncJSON(t, exitOK, args...); r.Run.Created != 12 {
		t.Fatalf("first sync: %s", counts(r.Run))
	}
	inGroup := func(login, group string) bool {
		t.Helper()
		code, out, _ := runCLI(t, nil, "users", "show", "-data", data, login)
		if code != exitOK {
			t.Fatalf("users show %s = %d\n%s", login, code, out)
		}
		return strings.Contains(out, group)
	}
	if !inGroup("grpuser00", "grp00") {
		t.Fatal("the first sync did not store grpuser00's group")
	}

	for _, dn := range groups[:11] {
		if err := c.Del(goldap.NewDelRequest(dn, nil)); err != nil {
			t.Fatal(err)
		}
	}
	r := syncJSON(t, exitHeld, args...)
	notes := strings.Join(r.Run.Notes, "\n")
	if r.Run.Status != roster.RunHeld || r.Run.Disabled != 0 || !strings.Contains(notes, "11 of 12 groups and 11 of 12 memberships would be removed") ||
		!strings.Contains(notes, "grp00, grp01, grp02, grp03, grp04 and 6 more") {
		t.Fatalf("11 of 12 groups gone: status %s, %s, notes %q; want the group removals held", r.Run.Status, counts(r.Run), r.Run.Notes)
	}
	if !inGroup("grpuser00", "grp00") {
		t.Fatal("a held run removed a membership")
	}
	if code, out, _ := runCLI(t, nil, "runs", "show", "-data", data, fmt.Sprint(r.Run.ID)); code != exitOK || !strings.Contains(out, "the group removals are held") {
		t.Fatalf("runs show does not show the held group removals:\n%s", out)
	}

	r = syncJSON(t, exitOK, append(args, "-approve-removals")...)
	if r.Run.Status != roster.RunSucceeded || inGroup("grpuser00", "grp00") || !inGroup("grpuser11", "grp11") {
		t.Fatalf("approved: status %s, notes %q; want grp00 gone and grp11 kept", r.Run.Status, r.Run.Notes)
	}
}
