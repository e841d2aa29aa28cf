package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// countWrites installs triggers that count every row written to groups
// and group_members, whoever writes it, and returns a func that reads and
// resets the count.
func countWrites(t *testing.T, r *sql.DB) func() int {
	t.Helper()
	stmts := []string{`CREATE TABLE writes (n INTEGER)`}
	for _, table := range []string{"groups", "group_members"} {
		for _, op := range []string{"INSERT", "UPDATE", "DELETE"} {
			stmts = append(stmts, fmt.Sprintf(`CREATE TRIGGER count_%s_%s AFTER %s ON %s
				BEGIN INSERT INTO writes (n) VALUES (1); END`, table, op, op, table))
		}
	}
	for _, s := range stmts {
		if _, err := r.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return func() int {
		n := count(t, r, `SELECT COUNT(*) FROM writes`)
		if _, err := r.Exec(`DELETE FROM writes`); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// groupState describes the source's groups as "name(dn): member, member".
func groupState(t *testing.T, r *sql.DB, source int64) string {
	t.Helper()
	rows, err := r.Query(`SELECT g.name, g.dn, COALESCE(group_concat(m.user_dn, ', ' ORDER BY m.user_dn), '')
		FROM groups g LEFT JOIN group_members m ON m.group_id = g.id
		WHERE g.source_id = ? GROUP BY g.id ORDER BY g.name`, source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, dn, members string
		if err := rows.Scan(&name, &dn, &members); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s(%s): %s", name, dn, members))
	}
	return strings.Join(out, "; ")
}

func TestSyncGroups(t *testing.T) {
	ctx := context.Background()
	db, path, source := open(t)
	other, _ := db.SourceID(ctx, "other")
	r := raw(t, path)
	if err := db.SyncGroups(ctx, other, []roster.GroupRecord{{Anchor: "g-x", DN: "CN=X", Name: "X", MemberDNs: []string{"CN=a"}}}, replace); err != nil {
		t.Fatal(err)
	}
	writes := countWrites(t, r)

	printers := roster.GroupRecord{Anchor: "g-1", DN: "CN=Printers,DC=corp", Name: "Printers",
		MemberDNs: []string{"CN=Alice,DC=corp", "CN=Bob,DC=corp"}}
	admins := roster.GroupRecord{Anchor: "g-2", DN: "CN=Admins,DC=corp", Name: "Admins",
		MemberDNs: []string{"CN=Alice,DC=corp"}}

	steps := []struct {
		name   string
		groups []roster.GroupRecord
		writes int
		state  string
	}{
		{
			name:   "a first sync inserts the groups and their members",
			groups: []roster.GroupRecord{printers, admins},
			writes: 5,
			state:  "Admins(CN=Admins,DC=corp): cn=alice,dc=corp; Printers(CN=Printers,DC=corp): cn=alice,dc=corp, cn=bob,dc=corp",
		},
		{
			name:   "the same groups again write nothing",
			groups: []roster.GroupRecord{printers, admins},
			writes: 0,
			state:  "Admins(CN=Admins,DC=corp): cn=alice,dc=corp; Printers(CN=Printers,DC=corp): cn=alice,dc=corp, cn=bob,dc=corp",
		},
		{
			name: "members in another order and case, listed twice, write nothing",
			groups: []roster.GroupRecord{admins, {Anchor: "g-1", DN: printers.DN, Name: printers.Name,
				MemberDNs: []string{"cn=BOB,dc=corp", "CN=Alice,DC=corp", "CN=Alice,DC=corp"}}},
			writes: 0,
			state:  "Admins(CN=Admins,DC=corp): cn=alice,dc=corp; Printers(CN=Printers,DC=corp): cn=alice,dc=corp, cn=bob,dc=corp",
		},
		{
			name: "a member added and one gone write two rows",
			groups: []roster.GroupRecord{admins, {Anchor: "g-1", DN: printers.DN, Name: printers.Name,
				MemberDNs: []string{"CN=Alice,DC=corp", "CN=Carol,DC=corp"}}},
			writes: 2,
			state:  "Admins(CN=Admins,DC=corp): cn=alice,dc=corp; Printers(CN=Printers,DC=corp): cn=alice,dc=corp, cn=carol,dc=corp",
		},
		{
			name: "a renamed and moved group is updated in place",
			groups: []roster.GroupRecord{admins, {Anchor: "g-1", DN: "CN=Print,OU=G,DC=corp", Name: "Print",
				MemberDNs: []string{"CN=Alice,DC=corp", "CN=Carol,DC=corp"}}},
			writes: 1,
			state:  "Admins(CN=Admins,DC=corp): cn=alice,dc=corp; Print(CN=Print,OU=G,DC=corp): cn=alice,dc=corp, cn=carol,dc=corp",
		},
		{
			name: "a group gone is deleted with its members",
			groups: []roster.GroupRecord{{Anchor: "g-1", DN: "CN=Print,OU=G,DC=corp", Name: "Print",
				MemberDNs: []string{"CN=Alice,DC=corp", "CN=Carol,DC=corp"}}},
			writes: 2,
			state:  "Print(CN=Print,OU=G,DC=corp): cn=alice,dc=corp, cn=carol,dc=corp",
		},
		{
			name:   "no groups delete every group of the source",
			groups: nil,
			writes: 3,
			state:  "",
		},
	}
	for _, s := range steps {
		if err := db.SyncGroups(ctx, source, s.groups, replace); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n := writes(); n != s.writes {
			t.Errorf("%s: %d rows written, want %d", s.name, n, s.writes)
		}
		if got := groupState(t, r, source); got != s.state {
			t.Errorf("%s: groups are\n\t%s\nwant\n\t%s", s.name, got, s.state)
		}
	}
	if got := groupState(t, r, other); got != "X(CN=X): cn=a" {
		t.Errorf("the other source's groups changed: %s", got)
	}

	err := db.SyncGroups(ctx, source, []roster.GroupRecord{printers, printers}, replace)
	wantCode(t, err, roster.EINVALID)
}

// replace is a groups sync that may delete: the stored groups become the
// ones given.
var replace = roster.GroupSync{Remove: true}

// The groups and the cursor are one transaction: a cursor that cannot be
// saved leaves the groups as they were.
func TestSyncGroupsWritesTheCursorWithTheGroupsOrNothing(t *testing.T) {
	ctx := context.Background()
	db, path, source := open(t)
	r := raw(t, path)
	before := roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "10"}
	if err := db.SyncGroups(ctx, source, []roster.GroupRecord{{Anchor: "g-1", DN: "CN=Print", Name: "Print", MemberDNs: []string{"CN=a"}}},
		roster.GroupSync{Remove: true, Cursor: before}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Exec(`CREATE TRIGGER refuse_cursor BEFORE UPDATE ON sync_cursors BEGIN SELECT RAISE(ABORT, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	after := before
	after.Value = "20"
	err := db.SyncGroups(ctx, source, []roster.GroupRecord{{Anchor: "g-2", DN: "CN=Scan", Name: "Scan", MemberDNs: []string{"CN=b"}}},
		roster.GroupSync{Remove: true, Cursor: after})
	if err == nil {
		t.Fatal("the cursor could not be saved, yet SyncGroups succeeded")
	}
	if got := groupState(t, r, source); got != "Print(CN=Print): cn=a" {
		t.Errorf("groups after a failed sync: %s; want them unchanged", got)
	}
	if c, err := db.Cursor(ctx, source); err != nil || c != before {
		t.Errorf("cursor %+v, %v; want %+v", c, err, before)
	}
}
