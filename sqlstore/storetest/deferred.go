package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// testDeferredUnique: while a first sync has the unique indexes away (a
// store that defers them), writes keep their rules or are settled at the
// build as the indexes would have: a number a user lists twice is stored
// once; a card added by hand is refused when the number is taken; a
// number two sources both wrote stays with the first, and the second
// holder's fingerprint is forgotten so that its next full sync says so. The
// lookups a later sync makes answer meanwhile.
func testDeferredUnique(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, corp := open(t, o)
	other, err := db.SourceID(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) == 0 {
		t.Fatalf("DeferIndexes on an empty user base: %v, %v", dropped, err)
	}
	ann := NewUser("ann", "1001", "1001") // the same number twice
	bob := NewUser("bob", "2001")
	ids := MustApply(t, db, corp,
		roster.Change{Kind: roster.Create, Login: "ann", User: ann, Fingerprint: 11},
		roster.Change{Kind: roster.Create, Login: "bob", User: bob, Fingerprint: 12})
	ann.ID, bob.ID = ids[0], ids[1]
	if n := count(t, r, `SELECT COUNT(*) FROM cards WHERE number = '1001'`); n != 1 {
		t.Errorf("ann lists card 1001 twice: %d rows of it, want 1", n)
	}
	if err := db.AddCard(ctx, ann.ID, roster.Card{Number: "2001"}); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Errorf("AddCard(ann, bob's 2001) = %v, want a conflict", err)
	}
	// Lookups a later sync makes, and the terminals'.
	if d, err := db.UserDigests(ctx, corp, []string{bob.Anchor}); err != nil || d[bob.Anchor].ID != bob.ID {
		t.Errorf("UserDigests(bob) = %v, %v", d, err)
	}
	if o, err := db.LoginOwners(ctx, corp, []string{"bob"}); err != nil || o["bob"] != bob.Anchor {
		t.Errorf("LoginOwners(bob) = %v, %v", o, err)
	}
	if u, err := db.UsersByAnchor(ctx, corp, []string{ann.Anchor}); err != nil || u[ann.Anchor] == nil || u[ann.Anchor].ID != ann.ID {
		t.Errorf("UsersByAnchor(ann) = %v, %v", u, err)
	}
	if u, err := db.UserByLogin(ctx, "ann"); err != nil || u.ID != ann.ID {
		t.Errorf("UserByLogin(ann) = %+v, %v", u, err)
	}

	// Another source's first sync, begun at the same instant, writes
	// bob's number for its own carol.
	carol := NewUser("carol", "2001", "3001")
	ids, err = db.Apply(ctx, other, []roster.Change{{Kind: roster.Create, Login: "carol", User: carol, Fingerprint: 13}})
	if err != nil {
		t.Fatalf("carol with bob's card 2001, the number's rule away: %v; the sync does not see the number, and the build settles it", err)
	}
	carol.ID = ids[0]
	if err := db.BuildIndexes(ctx); err != nil {
		t.Fatalf("BuildIndexes with card 2001 written twice: %v", err)
	}
	if settled := db.Settled(); len(settled) != 1 || !strings.HasPrefix(settled[0], "1 cards were stored a second time") {
		t.Errorf("Settled after the build: %q; want one note of one card", settled)
	}
	if again := db.Settled(); len(again) != 0 {
		t.Errorf("Settled gave its notes twice: %q", again)
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Fatalf("after the build, %v away (%v)", away, err)
	}
	if u, err := db.UserByCard(ctx, "2001"); err != nil || u.ID != bob.ID {
		t.Errorf("card 2001 went to %+v (%v), want bob, who had it first", u, err)
	}
	digests := map[string]uint64{}
	for _, s := range []struct {
		source int64
		u      *roster.User
	}{{corp, bob}, {other, carol}} {
		d, err := db.UserDigests(ctx, s.source, []string{s.u.Anchor})
		if err != nil {
			t.Fatal(err)
		}
		digests[s.u.Login] = d[s.u.Anchor].Fingerprint
	}
	if digests["bob"] != 12 || digests["carol"] != 0 {
		t.Errorf("fingerprints bob %d, carol %d; want bob's kept (12) and carol's forgotten (0)", digests["bob"], digests["carol"])
	}
	if u, err := db.UserByCard(ctx, "3001"); err != nil || u.ID != carol.ID {
		t.Errorf("carol's other card 3001: %+v, %v", u, err)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM users`); n != 3 {
		t.Errorf("%d users after the build, want 3: it removes cards, never users", n)
	}
}

// testTwinAnchors: should two users of a source ever share an anchor
// while its unique rule is away (nothing roster writes lets them), the
// build parts them rather than stay away for good: each later twin
// keeps its row and its cards under an anchor marked with its own ID and
// the first's (three twins part too), its fingerprint forgotten; users
// of no source, who all share the empty anchor, are left alone.
func testTwinAnchors(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, corp := open(t, o)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) == 0 {
		t.Fatalf("DeferIndexes on an empty user base: %v, %v", dropped, err)
	}
	ann := Create(t, db, corp, NewUser("ann", "0451"))[0]
	const at = "'2025-03-01T08:00:00Z'"
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO users (id, source_id, anchor, login, created_at, updated_at, fingerprint) VALUES
			(50, %[1]d, 'anchor-ann', 'ann2', %[2]s, %[2]s, 77), (51, %[1]d, 'anchor-ann', 'ann3', %[2]s, %[2]s, 78)`, corp, at),
		fmt.Sprintf(`INSERT INTO users (id, source_id, anchor, login, created_at, updated_at) VALUES
			(60, NULL, '', 'guest1', %[1]s, %[1]s), (61, NULL, '', 'guest2', %[1]s, %[1]s)`, at),
		`INSERT INTO cards (user_id, number, origin) VALUES (50, '9999', 'manual')`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.BuildIndexes(ctx); err != nil {
		t.Fatalf("BuildIndexes with twins: %v", err)
	}
	if settled := db.Settled(); len(settled) != 1 || !strings.HasPrefix(settled[0], "2 users shared the anchor") {
		t.Errorf("Settled after the build: %q", settled)
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Fatalf("after the build, %v away (%v)", away, err)
	}
	rows, err := r.Query(`SELECT id, anchor, fingerprint FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, fp int64
		var anchor string
		if err := rows.Scan(&id, &anchor, &fp); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d|%s|%d", id, anchor, fp))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("%d|anchor-ann|0", ann.ID), fmt.Sprintf("50|anchor-ann (user 50, twin of user %d)|0", ann.ID),
		fmt.Sprintf("51|anchor-ann (user 51, twin of user %d)|0", ann.ID), "60||0", "61||0"}
	if !slices.Equal(got, want) {
		t.Errorf("users after the build: %q, want %q", got, want)
	}
	if u, err := db.UserByCard(ctx, "9999"); err != nil || u.ID != 50 {
		t.Errorf("the twin's card: %+v, %v", u, err)
	}
}
