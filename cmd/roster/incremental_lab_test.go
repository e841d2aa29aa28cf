package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
)

// TestIncrementalSyncOnTheLab runs roster sync -incremental against
// Samba (uSNChanged) and OpenLDAP (contextCSN and entryCSN): a
// first run falls back to a full sync and leaves a cursor; the next read
// only the entries that changed, and remove nobody; a failed run leaves
// the cursor where it was.
func TestIncrementalSyncOnTheLab(t *testing.T) {
	env := labenv.Require(t)
	for _, d := range []labenv.Directory{labenv.AD, labenv.OpenLDAP} {
		t.Run(string(d), func(t *testing.T) { testIncremental(t, env, d) })
	}
}

func testIncremental(t *testing.T, env *labenv.Env, d labenv.Directory) {
	c := env.Admin(t, d)
	base := testBase(t, env, c, d)
	var dns []string
	login := runLogins(base)
	for i := 0; i < 8; i++ {
		dns = append(dns, addUser(t, c, d, base, login(fmt.Sprintf("inc%02d", i))))
	}
	// OpenLDAP's cursor is the CSN of the last change, and the entry
	// changed by it is read again: let that be a change outside the
	// users (the test OU's description).
	touchBase := func() {
		if d == labenv.OpenLDAP {
			m := goldap.NewModifyRequest(base, nil)
			m.Replace("description", []string{time.Now().String()})
			if err := c.Modify(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := t.TempDir()
	args := append(syncArgs(env, d, data, "inc", base), "-incremental")
	sync := func(args ...string) runJSON {
		touchBase()
		return syncJSON(t, exitOK, args...)
	}

	r := sync(args...)
	if r.Run.Mode != roster.RunFull || r.Run.Created != 8 || !strings.Contains(strings.Join(r.Run.Notes, "\n"), "no earlier successful run") {
		t.Fatalf("first run: mode %s, %s, notes %q", r.Run.Mode, counts(r.Run), r.Run.Notes)
	}

	// Nothing changed: an incremental run reads nothing.
	r = sync(args...)
	if r.Run.Mode != roster.RunIncremental || r.Run.Seen != 0 {
		t.Fatalf("unchanged: mode %s, %s", r.Run.Mode, counts(r.Run))
	}

	// One change, one new user, one deletion.
	m := goldap.NewModifyRequest(dns[3], nil)
	m.Replace("displayName", []string{"Changed Name"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	addUser(t, c, d, base, login("inc-new"))
	if err := c.Del(goldap.NewDelRequest(dns[5], nil)); err != nil {
		t.Fatal(err)
	}
	// OpenLDAP's syncprov reports the deletion to an ordinary account;
	// AD shows its Deleted Objects to admins only (see below).
	deletedNow := 0
	if d == labenv.OpenLDAP {
		deletedNow = 1
	}
	r = sync(args...)
	if r.Run.Mode != roster.RunIncremental || r.Run.Seen != 2 || r.Run.Updated != 1 || r.Run.Created != 1 || r.Run.Disabled != deletedNow {
		t.Fatalf("incremental: mode %s, %s; want 2 seen, 1 updated, 1 created, %d disabled", r.Run.Mode, counts(r.Run), deletedNow)
	}
	if _, out, _ := runCLI(t, nil, "users", "show", "-data", data, login("inc03")); !strings.Contains(out, "Changed Name") {
		t.Fatalf("the change did not arrive:\n%s", out)
	}

	// A new group with a member: the user's entry does not change (AD
	// keeps memberships on the group), yet the incremental run reads
	// the groups because one changed.
	g := goldap.NewAddRequest("CN=inc-group,"+base, nil)
	if d == labenv.AD {
		g.Attribute("objectClass", []string{"group"})
		g.Attribute("sAMAccountName", []string{login("inc-group")})
	} else {
		g = goldap.NewAddRequest("cn=inc-group,"+base, nil)
		g.Attribute("objectClass", []string{"groupOfNames"})
		g.Attribute("cn", []string{"inc-group"})
	}
	g.Attribute("member", []string{dns[0]})
	if err := c.Add(g); err != nil {
		t.Fatal(err)
	}
	// OpenLDAP's memberOf is operational: the user's modifyTimestamp
	// stays too.
	if r = sync(args...); r.Run.Mode != roster.RunIncremental || r.Run.Seen != 0 {
		t.Fatalf("after a group change: mode %s, %s", r.Run.Mode, counts(r.Run))
	}
	if _, out, _ := runCLI(t, nil, "users", "show", "-data", data, login("inc00")); !strings.Contains(out, "inc-group") {
		t.Fatalf("the new membership did not arrive:\n%s", out)
	}

	// A failed incremental run (wrong password) keeps the cursor: the
	// change made meanwhile is read by the next good run.
	m = goldap.NewModifyRequest(dns[4], nil)
	m.Replace("displayName", []string{"Changed Again"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := append([]string(nil), args...)
	for i := range bad {
		if bad[i] == "-password-file" {
			bad[i+1] = wrong
		}
	}
	if code, _, _ := runCLI(t, nil, bad...); code == exitOK {
		t.Fatal("a sync with a wrong password succeeded")
	}
	r = sync(args...)
	if r.Run.Mode != roster.RunIncremental || r.Run.Seen != 1 || r.Run.Updated != 1 {
		t.Fatalf("after a failed run: mode %s, %s; want the one change read", r.Run.Mode, counts(r.Run))
	}

	// A full run finds the deleted user, unless the incremental one did.
	r = sync(append([]string(nil), args[:len(args)-1]...)...) // a copy: syncJSON appends to it
	if r.Run.Mode != roster.RunFull || r.Run.Disabled != 1-deletedNow {
		t.Fatalf("full: mode %s, %s; want %d disabled", r.Run.Mode, counts(r.Run), 1-deletedNow)
	}
	if _, out, _ := runCLI(t, nil, "users", "show", "-data", data, login("inc05")); !strings.Contains(out, "disabled") {
		t.Fatalf("the deleted user is not disabled:\n%s", out)
	}

	if d != labenv.AD {
		return
	}
	// An account allowed to read Deleted Objects (here the lab's admin)
	// lets an incremental run disable the users deleted since.
	pw := filepath.Join(t.TempDir(), "admin.pw")
	if err := os.WriteFile(pw, []byte(env.Get("LAB_ADMIN_PASSWORD")), 0o600); err != nil {
		t.Fatal(err)
	}
	adminArgs := append([]string(nil), args...)
	for i := range adminArgs {
		switch adminArgs[i] {
		case "-login":
			adminArgs[i+1] = env.Get("LAB_AD_ADMIN_USER")
		case "-password-file":
			adminArgs[i+1] = pw
		case "-data":
			adminArgs[i+1] = t.TempDir()
		}
	}
	if r = sync(adminArgs...); r.Run.Mode != roster.RunFull || r.Run.Created != 8 {
		t.Fatalf("admin's first run: mode %s, %s", r.Run.Mode, counts(r.Run))
	}
	if err := c.Del(goldap.NewDelRequest(dns[6], nil)); err != nil {
		t.Fatal(err)
	}
	if r = sync(adminArgs...); r.Run.Mode != roster.RunIncremental || r.Run.Disabled != 1 || r.Run.Seen != 0 {
		t.Fatalf("admin's incremental run after a deletion: mode %s, %s, notes %q; want the deleted user disabled", r.Run.Mode, counts(r.Run), r.Run.Notes)
	}
}
