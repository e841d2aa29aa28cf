package storetest

import (
	"context"
	"fmt"
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
	Create(t, db, source, alice, bob)
	twin := NewUser("alice") // same DN, other source
	twin.DN = alice.DN
	Create(t, db, other, twin)

	err := db.SyncGroups(ctx, source, []roster.GroupRecord{
		{Anchor: "g-1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{"cn=alice,ou=staff,dc=corp"}},
		{Anchor: "g-2", DN: "CN=Admins", Name: "Admins", MemberDNs: []string{"CN=ALICE,OU=STAFF,DC=CORP"}},
		{Anchor: "g-3", DN: "CN=Empty", Name: "Empty"},
	})
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
