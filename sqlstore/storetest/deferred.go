package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/rosterhq/roster"
)

// testDeferred: the indexes and keys a first sync defers (DeferIndexes)
// are away only while the user base is empty, the store answers and
// writes as ever meanwhile (a user deleted takes its cards along, key or
// no key), and a build makes them all.
func testDeferred(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, corp := open(t, o)
	dropped, err := db.DeferIndexes(ctx)
	if err != nil {
		t.Fatalf("DeferIndexes on an empty user base: %v", err)
	}
	if len(dropped) == 0 {
		t.Skip("this store defers nothing")
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || !slices.Equal(away, dropped) {
		t.Fatalf("DeferredIndexes = %v, %v; DeferIndexes dropped %v", away, err, dropped)
	}

	// Meanwhile: writes, lookups, and a delete, by a sync of another
	// source, say.
	ann, bob := NewUser("ann", "1001"), NewUser("bob", "2001")
	Create(t, db, corp, ann, bob)
	if u, err := db.UserByCard(ctx, "2001"); err != nil || u.ID != bob.ID {
		t.Fatalf("UserByCard(2001) with %v away = %+v, %v", dropped, u, err)
	}
	if _, err := db.Apply(ctx, corp, []roster.Change{{Kind: roster.Delete, Login: "bob", User: bob}}); err != nil {
		t.Fatalf("delete bob with %v away: %v", dropped, err)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM cards WHERE number = '2001'`); n != 0 {
		t.Errorf("bob deleted with %v away: his card is still stored (%d rows)", dropped, n)
	}
	// With users written, DeferIndexes drops nothing more.
	if again, err := db.DeferIndexes(ctx); err != nil || len(again) != 0 {
		t.Fatalf("DeferIndexes on a user base with users dropped %v, %v", again, err)
	}
	// Finding users, it built what was away, as after a killed sync.
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Fatalf("after DeferIndexes found users, %v away (%v)", away, err)
	}
	if err := db.AddCard(ctx, ann.ID, roster.Card{Number: "2001"}); err != nil {
		t.Errorf("bob's number, freed by his delete, cannot go to ann: %v", err)
	}
}
