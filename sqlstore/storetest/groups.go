package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

func testUserGroups(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	other, _ := db.SourceID(ctx, "other")
	alice := NewUser("alice")
	alice.DN = "CN=Alice,OU=Staff,DC=corp"
	bob := NewUser("bob")
	nodn := NewUser("nodn") // added by hand: no DN
	nodn.DN = ""
	Create(t, db, source, alice, bob, nodn)
	twin := NewUser("alice") // same DN, other source
	twin.DN = alice.DN
	Create(t, db, other, twin)

	err := db.SyncGroups(ctx, source, []roster.GroupRecord{
		{Anchor: "g-1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{"cn=alice,ou=staff,dc=corp"}},
		{Anchor: "g-2", DN: "CN=Admins", Name: "Admins", MemberDNs: []string{"CN=ALICE,OU=STAFF,DC=CORP"}},
		{Anchor: "g-3", DN: "CN=Empty", Name: "Empty"},
	}, roster.GroupSync{})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		userID int64
		want   string
	}{
		{"a member's DN matches whatever its case", alice.ID, "[Admins Printers]"},
		{"a user in no group has none", bob.ID, "[]"},
		{"another source's groups do not count", twin.ID, "[]"},
		{"a user without a DN has none", nodn.ID, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, err := db.UserGroups(ctx, tt.userID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range groups {
				names = append(names, g.Name)
			}
			if got := fmt.Sprint(names); got != tt.want {
				t.Errorf("groups = %s, want %s", got, tt.want)
			}
		})
	}
	groups, err := db.UserGroups(ctx, alice.ID)
	if err != nil || len(groups) != 2 {
		t.Fatalf("alice's groups: %v, %v", groups, err)
	}
	if g := groups[1]; g.ID == 0 || g.SourceID != source || g.Anchor != "g-1" || g.DN != "CN=Printers" || g.Name != "Printers" || len(g.Members) != 0 {
		t.Errorf("alice's second group is %+v; want Printers (g-1) of source %d, without members", g, source)
	}
	_, err = db.UserGroups(ctx, 999)
	wantCode(t, err, roster.ENOTFOUND)
}

func testSourceID(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	again, err := db.SourceID(ctx, "corp")
	if err != nil || again != corp {
		t.Fatalf("SourceID(corp) again = %d, %v; want %d", again, err, corp)
	}
	other, err := db.SourceID(ctx, "lab")
	if err != nil || other == corp || other == 0 {
		t.Fatalf("SourceID(lab) = %d, %v; want a new ID", other, err)
	}
	_, err = db.SourceID(ctx, "")
	wantCode(t, err, roster.EINVALID)
}

// groupState describes every stored group as "name: member, member",
// members as the store keys them, groups by name.
func groupState(t *testing.T, r *sql.DB) string {
	t.Helper()
	rows, err := r.Query(`SELECT g.name, COALESCE(m.user_dn, '') FROM groups g
		LEFT JOIN group_members m ON m.group_id = g.id ORDER BY g.name, m.user_dn`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	last := ""
	for rows.Next() {
		var name, member string
		if err := rows.Scan(&name, &member); err != nil {
			t.Fatal(err)
		}
		if name != last {
			out = append(out, name+":")
			last = name
		}
		if member != "" {
			out[len(out)-1] += " " + member
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "; ")
}

// A groups sync without Remove adds and updates and never deletes; with
// Remove it makes the stored groups equal to the read. PlanGroups says
// beforehand what a sync with Remove would change, and writes nothing.
func testSyncGroupsRemovesOnlyWhenAsked(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, source := open(t, o)
	printers := roster.GroupRecord{Anchor: "g-1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{"CN=a", "CN=b"}}
	admins := roster.GroupRecord{Anchor: "g-2", DN: "CN=Admins", Name: "Admins", MemberDNs: []string{"CN=a"}}
	scan := roster.GroupRecord{Anchor: "g-3", DN: "CN=Scan", Name: "Scan", MemberDNs: []string{"CN=c"}}
	renamed := roster.GroupRecord{Anchor: "g-1", DN: "CN=Print", Name: "Print", MemberDNs: []string{"CN=b", "CN=d"}}
	cursor := roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "7"}

	steps := []struct {
		name   string
		groups []roster.GroupRecord
		opt    roster.GroupSync
		plan   string
		state  string
		cursor roster.Cursor
	}{
		{"a first sync adds every group and member", []roster.GroupRecord{printers, admins}, roster.GroupSync{},
			"stored 0/0 groups +2 ~0 -0 members +3 -0 removed [] shrunk []",
			"Admins: cn=a; Printers: cn=a cn=b", roster.Cursor{}},
		{"without Remove a group gone and a member gone stay, and the rest is written with the cursor",
			[]roster.GroupRecord{renamed, scan}, roster.GroupSync{Cursor: cursor},
			"stored 2/3 groups +1 ~1 -1 members +2 -2 removed [Admins] shrunk [Print]",
			"Admins: cn=a; Print: cn=a cn=b cn=d; Scan: cn=c", cursor},
		{"without Remove an empty read deletes nothing", nil, roster.GroupSync{},
			"stored 3/5 groups +0 ~0 -3 members +0 -5 removed [Admins Print Scan] shrunk []",
			"Admins: cn=a; Print: cn=a cn=b cn=d; Scan: cn=c", cursor},
		{"with Remove the stored groups become the read", []roster.GroupRecord{renamed, scan}, roster.GroupSync{Remove: true},
			"stored 3/5 groups +0 ~0 -1 members +0 -2 removed [Admins] shrunk [Print]",
			"Print: cn=b cn=d; Scan: cn=c", cursor},
		{"with Remove an empty read deletes every group", nil, roster.GroupSync{Remove: true},
			"stored 2/3 groups +0 ~0 -2 members +0 -3 removed [Print Scan] shrunk []",
			"", cursor},
	}
	for _, s := range steps {
		plan, err := db.PlanGroups(ctx, source, s.groups)
		if err != nil {
			t.Fatalf("%s: PlanGroups: %v", s.name, err)
		}
		if got := fmt.Sprintf("stored %d/%d groups +%d ~%d -%d members +%d -%d removed %v shrunk %v", plan.Groups, plan.Members,
			plan.AddGroups, plan.UpdateGroups, plan.RemoveGroups, plan.AddMembers, plan.RemoveMembers, plan.Removed, plan.Shrunk); got != s.plan {
			t.Errorf("%s: plan\n\t%s\nwant\n\t%s", s.name, got, s.plan)
		}
		if err := db.SyncGroups(ctx, source, s.groups, s.opt); err != nil {
			t.Fatalf("%s: SyncGroups: %v", s.name, err)
		}
		if got := groupState(t, r); got != s.state {
			t.Errorf("%s: groups\n\t%s\nwant\n\t%s", s.name, got, s.state)
		}
		if c, err := db.Cursor(ctx, source); err != nil || c != s.cursor {
			t.Errorf("%s: cursor %+v, %v; want %+v", s.name, c, err, s.cursor)
		}
	}

	// A refused sync writes nothing, the cursor included.
	err := db.SyncGroups(ctx, source, []roster.GroupRecord{scan, scan}, roster.GroupSync{Cursor: roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "8"}})
	wantCode(t, err, roster.EINVALID)
	_, err = db.PlanGroups(ctx, source, []roster.GroupRecord{scan, scan})
	wantCode(t, err, roster.EINVALID)
	if got := groupState(t, r); got != "" {
		t.Errorf("a refused sync wrote groups: %s", got)
	}
	if c, _ := db.Cursor(ctx, source); c != cursor {
		t.Errorf("a refused sync moved the cursor to %+v", c)
	}
}
