package storetest

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
)

// A move rebinds users to new anchors, keeping the rest of them; a user
// whose anchor changed since the plan is passed over, and the source's
// cursor goes, so that the next sync reads everything.
func testRebind(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	users := Create(t, db, corp, NewUser("ann", "1111"), NewUser("bob"))
	if err := db.SyncGroups(ctx, corp, []roster.GroupRecord{{Anchor: "g1", DN: "CN=G1", Name: "G1", MemberDNs: []string{users[0].DN}}}, roster.GroupSync{}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveCursor(ctx, corp, roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "42"}); err != nil {
		t.Fatal(err)
	}
	// New settings that cannot be saved (another source has the name):
	// nobody is rebound, and the groups and cursor stay.
	taken := &roster.Source{Name: "taken", Type: roster.OpenLDAP, Address: "127.0.0.1", TLSMode: roster.LDAPS, Domain: "corp.test", Login: "svc"}
	if err := db.SaveSource(ctx, taken); err != nil {
		t.Fatal(err)
	}
	clash := *taken
	clash.ID = corp
	if _, err := db.Rebind(ctx, corp, []roster.MoveMatch{{UserID: users[0].ID, From: users[0].Anchor, To: "entra-ann"}}, &clash); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("Rebind with settings another source's name holds = %v; want ECONFLICT", err)
	}
	if Stored(t, db, corp, users[0].Anchor) == nil || Stored(t, db, corp, "entra-ann") != nil {
		t.Fatal("a rebind whose settings were refused rebound ann")
	}
	if c, err := db.Cursor(ctx, corp); err != nil || c.IsZero() {
		t.Fatalf("a refused rebind cleared the cursor: %+v, %v", c, err)
	}

	n, err := db.Rebind(ctx, corp, []roster.MoveMatch{
		{UserID: users[0].ID, From: users[0].Anchor, To: "entra-ann"},
		{UserID: users[1].ID, From: "an anchor bob no longer has", To: "entra-bob"},
	}, nil)
	if err != nil || n != 1 {
		t.Fatalf("Rebind = %d, %v; want 1", n, err)
	}
	ann := Stored(t, db, corp, "entra-ann")
	if ann == nil || ann.ID != users[0].ID || ann.DN != "entra-ann" || ann.Login != "ann" || len(ann.Cards) != 1 {
		t.Fatalf("ann after the rebind: %+v", ann)
	}
	if Stored(t, db, corp, users[1].Anchor) == nil || Stored(t, db, corp, "entra-bob") != nil {
		t.Fatal("bob was rebound from an anchor he does not have")
	}
	if g, err := db.Groups(ctx); err != nil || len(g) != 0 {
		t.Fatalf("the groups after a rebind: %+v, %v", g, err)
	}
	if c, err := db.Cursor(ctx, corp); err != nil || !c.IsZero() {
		t.Fatalf("the cursor after a rebind: %+v, %v", c, err)
	}
}
