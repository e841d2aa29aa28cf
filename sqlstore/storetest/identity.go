package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// groupNamesOf lists the names of the user's groups.
func groupNamesOf(t *testing.T, db *sqlstore.DB, userID int64) string {
	t.Helper()
	groups, err := db.UserGroups(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	return fmt.Sprint(names)
}

// A member is matched to a user as a DN, however either is spelt: escapes
// (\, \2C, hex UTF-8), case and the spaces around separators aside.
func testMembersMatchAsDNs(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	alice, bob, carol := NewUser("alice"), NewUser("bob"), NewUser("carol")
	alice.DN = `CN=Smith\, Alice,OU=Staff,DC=corp,DC=test`
	bob.DN = "CN=caf\u00e9,OU=Staff,DC=corp,DC=test"
	carol.DN = "CN=Carol,OU=Staff,DC=corp,DC=test"
	Create(t, db, source, alice, bob, carol)
	groups := []roster.GroupRecord{
		{Anchor: "g-1", DN: "CN=G1", Name: "G1", MemberDNs: []string{`cn=Smith\2C Alice, ou=staff, dc=corp, dc=test`, `CN=CAF\C3\A9,OU=Staff,DC=corp,DC=test`}},
		{Anchor: "g-2", DN: "CN=G2", Name: "G2", MemberDNs: []string{`cn="smith, alice",ou=STAFF,dc=corp,dc=test`, "cn = carol , ou = staff, dc = corp, dc = test"}},
	}
	if err := db.SyncGroups(ctx, source, groups, roster.GroupSync{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		u    *roster.User
		want string
	}{
		{"an escaped comma matches a hex one, spaces aside", alice, "[G1 G2]"},
		{"hex-escaped UTF-8 matches the character", bob, "[G1]"},
		{"spaces around = and , are ignored", carol, "[G2]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := groupNamesOf(t, db, tt.u.ID); got != tt.want {
				t.Errorf("groups = %s, want %s", got, tt.want)
			}
		})
	}
	all, err := db.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range all {
		if g.Users != 2 {
			t.Errorf("group %s counts %d users, want 2", g.Name, g.Users)
		}
	}
	// The members spelt as the users' DNs are the same members: nothing
	// to add or remove.
	groups[0].MemberDNs = []string{alice.DN, bob.DN}
	groups[1].MemberDNs = []string{alice.DN, carol.DN}
	plan, err := db.PlanGroups(ctx, source, groups)
	if err != nil {
		t.Fatal(err)
	}
	if plan.AddMembers != 0 || plan.RemoveMembers != 0 {
		t.Errorf("respelt members plan %+v; want no change", plan)
	}
	// A user whose DN the directory now spells otherwise stays a member.
	alice.DN = `cn=SMITH\2c ALICE, ou=Staff, dc=corp, dc=test`
	MustApply(t, db, source, roster.Change{Kind: roster.Update, User: alice})
	if got := groupNamesOf(t, db, alice.ID); got != "[G1 G2]" {
		t.Errorf("after a respelt DN, groups = %s", got)
	}
}

// RekeyDNs makes keys written under an older rule right, merging the
// memberships that become one.
func testRekeyDNs(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, source := open(t, o)
	alice := NewUser("alice")
	alice.DN = `CN=Smith\2C Alice, OU=Staff,DC=corp,DC=test`
	Create(t, db, source, alice)
	if err := db.SyncGroups(ctx, source, []roster.GroupRecord{{Anchor: "g-1", DN: "CN=G1", Name: "G1"}}, roster.GroupSync{}); err != nil {
		t.Fatal(err)
	}
	// The keys as roster wrote them before: the DN in lower case.
	for _, q := range []string{
		`UPDATE users SET dn_key = 'cn=smith\2c alice, ou=staff,dc=corp,dc=test'`,
		`INSERT INTO group_members (group_id, user_dn) SELECT id, 'cn=smith\, alice, ou=staff, dc=corp, dc=test' FROM groups`,
		`INSERT INTO group_members (group_id, user_dn) SELECT id, 'cn=smith\2c alice,ou=staff,dc=corp,dc=test' FROM groups`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := groupNamesOf(t, db, alice.ID); got != "[]" {
		t.Fatalf("with the old keys, groups = %s; the test needs keys that do not match", got)
	}
	n, err := db.RekeyDNs(ctx)
	if err != nil || n != 3 {
		t.Fatalf("RekeyDNs = %d, %v; want 3 rows rewritten", n, err)
	}
	if got := groupNamesOf(t, db, alice.ID); got != "[G1]" {
		t.Errorf("after RekeyDNs, groups = %s", got)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM group_members`); n != 1 {
		t.Errorf("%d memberships, want the two spellings merged into 1", n)
	}
	if n, err := db.RekeyDNs(ctx); err != nil || n != 0 {
		t.Errorf("RekeyDNs again = %d, %v; want nothing to do", n, err)
	}
}

// Lookups by login compare the login as syncs store it: trimmed, NFC.
// A user gone from the directory that gave its login up keeps it as a
// former login, behind any other holder.
func testLoginLookups(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	jose := NewUser("jos\u00e9")
	old := NewUser("jsmith")
	old.Anchor = "anchor-old"
	Create(t, db, source, jose, old)
	for _, typed := range []string{" jos\u00e9\t", "jose\u0301"} {
		if u, err := db.UserByLogin(ctx, typed); err != nil || u.ID != jose.ID {
			t.Errorf("UserByLogin(%q) = %+v, %v; want jos\u00e9", typed, u, err)
		}
		if u, err := db.UserToSignIn(ctx, typed); err != nil || u.ID != jose.ID {
			t.Errorf("UserToSignIn(%q) = %+v, %v; want jos\u00e9", typed, u, err)
		}
	}
	_, err := db.UserByLogin(ctx, "   ")
	wantCode(t, err, roster.ENOTFOUND)
	if users, _, err := db.FindUsers(ctx, sqlstore.UserFilter{Query: " jose\u0301 "}); err != nil || len(users) != 1 || users[0].ID != jose.ID {
		t.Errorf("FindUsers(jose + combining accent) = %v, %v; want jos\u00e9", users, err)
	}

	// jsmith leaves the directory, and comes back as a new entry: the old
	// user gives its login up in the new one's transaction.
	old.Disabled, old.DisabledReason, old.MissingSince = true, roster.DisabledMissing, t0
	MustApply(t, db, source, roster.Change{Kind: roster.Disable, User: old})
	gone := *old
	gone.Login = "jsmith~anchor-old"
	fresh := NewUser("jsmith")
	fresh.Anchor = "anchor-new"
	ids := MustApply(t, db, source,
		roster.Change{Kind: roster.Rename, OldLogin: "jsmith", User: &gone},
		roster.Change{Kind: roster.Create, User: fresh})
	fresh.ID = ids[1]
	if u := Stored(t, db, source, "anchor-old"); u.Login != "jsmith~anchor-old" || !slices.Contains(u.Aliases, "jsmith") {
		t.Fatalf("the old user is %+v; want jsmith kept as its former login", u)
	}
	check := func(when string) {
		t.Helper()
		if u, err := db.UserByLogin(ctx, "jsmith"); err != nil || u.Anchor != "anchor-new" {
			t.Errorf("%s: UserByLogin(jsmith) = %+v, %v; want the new jsmith", when, u, err)
		}
		if u, err := db.UserToSignIn(ctx, "jsmith"); err != nil || u.Anchor != "anchor-new" {
			t.Errorf("%s: UserToSignIn(jsmith) = %+v, %v; want the new jsmith", when, u, err)
		}
	}
	check("the new user holds the login")
	// The new jsmith is renamed in turn: both have jsmith as a former
	// login, and the one still in the directory comes first.
	renamed := *fresh
	renamed.Login = "john.smith"
	MustApply(t, db, source, roster.Change{Kind: roster.Rename, OldLogin: "jsmith", User: &renamed})
	check("both hold it as a former login")
}

// StepsBefore returns the steps of steps named before name, to bring a
// store to an older schema.
func StepsBefore(t *testing.T, steps fs.FS, name string) fs.FS {
	t.Helper()
	names, err := fs.Glob(steps, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	for _, n := range names {
		if n < name {
			b, err := fs.ReadFile(steps, n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = &fstest.MapFile{Data: b}
		}
	}
	return out
}

// RunDNKeyUpgrade checks that the schema step changing the DN keys makes
// the rows of an older user base right. db is a store without a schema,
// r a plain connection to it, steps the store's schema steps.
func RunDNKeyUpgrade(t *testing.T, db *sqlstore.DB, r *sql.DB, steps fs.FS) {
	ctx := context.Background()
	if err := db.Migrate(ctx, StepsBefore(t, steps, "009_dn_keys.sql")); err != nil {
		t.Fatal(err)
	}
	// Rows as roster wrote them before: keys are the DNs in lower case.
	for _, q := range []string{
		`INSERT INTO sources (id, name, created_at) VALUES (1, 'corp', '2025-03-01T08:00:00.000000000Z')`,
		`INSERT INTO users (id, source_id, anchor, dn, dn_key, login, created_at, updated_at) VALUES
			(1, 1, 'a-1', 'CN=Smith\2C John, OU=Staff,DC=corp,DC=test', 'cn=smith\2c john, ou=staff,dc=corp,dc=test', 'jsmith', '2025-03-01T08:00:00.000000000Z', '2025-03-01T08:00:00.000000000Z'),
			(2, 1, 'a-2', 'CN=Plain,OU=Staff,DC=corp,DC=test', 'cn=plain,ou=staff,dc=corp,dc=test', 'plain', '2025-03-01T08:00:00.000000000Z', '2025-03-01T08:00:00.000000000Z')`,
		`INSERT INTO groups (id, source_id, anchor, dn, name) VALUES (1, 1, 'g-1', 'CN=G1', 'G1')`,
		`INSERT INTO group_members (group_id, user_dn) VALUES
			(1, 'cn=smith\, john,ou=staff,dc=corp,dc=test'), (1, 'cn=plain,ou=staff,dc=corp,dc=test')`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Migrate(ctx, steps); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{1: "[G1]", 2: "[G1]"} {
		if got := groupNamesOf(t, db, id); got != want {
			t.Errorf("after the upgrade, user %d's groups = %s, want %s", id, got, want)
		}
	}
	var keys []string
	rows, err := r.Query(`SELECT dn_key FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if got := strings.Join(keys, " | "); got != `cn=smith\, john,ou=staff,dc=corp,dc=test | cn=plain,ou=staff,dc=corp,dc=test` {
		t.Errorf("the users' keys are %s", got)
	}
}

// RunRefusesANewerSchema checks that a store a newer roster brought past
// the steps this one knows is refused, not used: a downgrade is refused
// with the step named. db is a store with its schema, r a plain
// connection to it, steps the store's schema steps.
func RunRefusesANewerSchema(t *testing.T, db *sqlstore.DB, r *sql.DB, steps fs.FS) {
	if _, err := r.Exec(`INSERT INTO migrations (name) VALUES ('999_from_the_future.sql')`); err != nil {
		t.Fatal(err)
	}
	err := db.Migrate(context.Background(), steps)
	if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(roster.ErrorMessage(err), "999_from_the_future.sql by a newer roster") {
		t.Fatalf("a user base with a step from a newer roster: %v", err)
	}
}
