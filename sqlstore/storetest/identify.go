package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func testIdentify(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	alice, bob := NewUser("alice", "1001"), NewUser("bob", "2001")
	alice.PrintCodeHash, bob.PrintCodeHash = "hash-a", "hash-shared"
	carol := NewUser("carol")
	carol.PrintCodeHash = "hash-shared" // a directory may repeat a code
	Create(t, db, corp, alice, bob, carol)
	if err := db.AddCard(ctx, bob.ID, roster.Card{Number: "T-9", Kind: roster.CardTemporary, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	u, err := db.UserByCard(ctx, "1001")
	if err != nil || u.ID != alice.ID || u.Login != "alice" || len(u.Cards) != 1 || u.Cards[0].Kind != roster.CardPrimary {
		t.Fatalf("UserByCard(1001) = %+v, %v", u, err)
	}
	// bob has two cards: the one asked for comes back, with its expiry.
	u, err = db.UserByCard(ctx, "T-9")
	if err != nil || u.ID != bob.ID || len(u.Cards) != 1 {
		t.Fatalf("UserByCard(T-9) = %+v, %v", u, err)
	}
	if temp := u.Cards[0]; temp.Number != "T-9" || !temp.ExpiresAt.Equal(t0.Add(time.Hour)) || temp.Kind != roster.CardTemporary || temp.Origin != roster.CardManual {
		t.Errorf("the temporary card reads back as %+v", temp)
	}
	_, err = db.UserByCard(ctx, "1001 ")
	wantCode(t, err, roster.ENOTFOUND)

	if us, err := db.UsersByPrintCodeHash(ctx, "hash-a"); err != nil || len(us) != 1 || us[0].ID != alice.ID {
		t.Fatalf("UsersByPrintCodeHash(a) = %v, %v", us, err)
	}
	if us, _ := db.UsersByPrintCodeHash(ctx, "hash-shared"); len(us) != 2 {
		t.Fatalf("a shared code gave %d users, want 2", len(us))
	}
	if us, _ := db.UsersByPrintCodeHash(ctx, ""); len(us) != 0 {
		t.Fatalf("the empty hash matched %d users", len(us))
	}

	// A new code for carol: not one another user has.
	wantCode(t, db.SetPrintCodeHash(ctx, carol.ID, "hash-a"), roster.ECONFLICT)
	if err := db.SetPrintCodeHash(ctx, carol.ID, "hash-c"); err != nil {
		t.Fatal(err)
	}
	if us, _ := db.UsersByPrintCodeHash(ctx, "hash-c"); len(us) != 1 || us[0].ID != carol.ID {
		t.Fatalf("carol's new code finds %v", us)
	}
	wantCode(t, db.SetPrintCodeHash(ctx, 999999, "hash-z"), roster.ENOTFOUND)

	// Terminal tokens can be made.
	if tok, err := db.CreateToken(ctx, "release station 1", "term-hash", roster.ScopeTerminal); err != nil || tok.Scope != roster.ScopeTerminal {
		t.Fatalf("CreateToken(terminal) = %+v, %v", tok, err)
	}
}

func testRemoveCard(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	u := Create(t, db, corp, NewUser("dora", "5001"))[0]
	if err := db.AddCard(ctx, u.ID, roster.Card{Number: "M-1", Kind: roster.CardTemporary}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.RemoveCard(ctx, u.ID, "5001"), roster.EINVALID)
	wantCode(t, db.RemoveCard(ctx, u.ID, "M-2"), roster.ENOTFOUND)
	if err := db.RemoveCard(ctx, u.ID, "M-1"); err != nil {
		t.Fatal(err)
	}
	if got := Stored(t, db, corp, "anchor-dora"); len(got.Cards) != 1 || got.Cards[0].Number != "5001" {
		t.Fatalf("cards after removal: %v", got.Cards)
	}
}

// What an admin changes by hand makes the next sync compare the user
// whole: a print code or a card set or taken by hand clears the user's
// fingerprint, and moves its update time, so that a sync that read the
// user before cannot save a fingerprint over the change.
func testHandWritesClearTheFingerprint(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	u := Create(t, db, corp, NewUser("fred", "6001"))[0]
	steps := []struct {
		name  string
		write func() error
	}{
		{"a print code set by hand", func() error { return db.SetPrintCodeHash(ctx, u.ID, "hash-fred") }},
		{"a card added by hand", func() error { return db.AddCard(ctx, u.ID, roster.Card{Number: "M-7", Kind: roster.CardSecondary}) }},
		{"a card taken by hand", func() error { return db.RemoveCard(ctx, u.ID, "M-7") }},
	}
	fingerprint := func() uint64 {
		t.Helper()
		d, err := db.UserDigests(ctx, corp, []string{u.Anchor})
		if err != nil {
			t.Fatal(err)
		}
		return d[u.Anchor].Fingerprint
	}
	for i, st := range steps {
		// A sync reads the user's fingerprint, then saves one.
		was, fp := fingerprint(), uint64(101+2*i)
		if err := db.SaveFingerprints(ctx, corp, []roster.UserFingerprint{{ID: u.ID, Fingerprint: fp, Was: was}}); err != nil {
			t.Fatal(err)
		}
		if got := fingerprint(); got != fp {
			t.Fatalf("%s: the fingerprint before is %d, want %d", st.name, got, fp)
		}
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		mark := fingerprint()
		if mark == fp || mark&1 != 0 {
			t.Errorf("%s left the fingerprint %d; want a new even one", st.name, mark)
		}
		// A sync that read the user before the write saves nothing; the
		// write before, the one that read its mark, saves.
		if err := db.SaveFingerprints(ctx, corp, []roster.UserFingerprint{{ID: u.ID, Fingerprint: fp, Was: fp}}); err != nil {
			t.Fatal(err)
		}
		if got := fingerprint(); got != mark {
			t.Errorf("after %s, a fingerprint read before it was saved over it", st.name)
		}
	}
}

// A sync plans an update from the user as it read it. A print code an
// admin sets meanwhile must stay: the update writes its code only over
// the one it was planned from.
func testApplyKeepsAPrintCodeSetMeanwhile(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	dave, erin := NewUser("dave"), NewUser("erin")
	dave.PrintCodeHash, erin.PrintCodeHash = "hash-old", "hash-e"
	Create(t, db, corp, dave, erin)
	read := Stored(t, db, corp, dave.Anchor) // the sync reads dave

	if err := db.SetPrintCodeHash(ctx, dave.ID, "hash-admin"); err != nil { // the admin's new code
		t.Fatal(err)
	}
	next := *read
	next.Name = "Dave Renamed"
	MustApply(t, db, corp, roster.Change{Kind: roster.Update, Login: next.Login, DN: next.DN, User: &next, PrintCodeWas: read.PrintCodeHash})
	got := Stored(t, db, corp, dave.Anchor)
	if got.Name != "Dave Renamed" || got.PrintCodeHash != "hash-admin" {
		t.Fatalf("after a sync's update planned before the admin's code: name %q, code hash %q; want the new name and the admin's code", got.Name, got.PrintCodeHash)
	}

	// Planned from the code as stored, the directory's code is written.
	next = *got
	next.PrintCodeHash = "hash-directory"
	MustApply(t, db, corp, roster.Change{Kind: roster.Update, Login: next.Login, DN: next.DN, User: &next, PrintCodeWas: got.PrintCodeHash})
	if got := Stored(t, db, corp, dave.Anchor); got.PrintCodeHash != "hash-directory" {
		t.Fatalf("an update planned from the stored code left %q, want hash-directory", got.PrintCodeHash)
	}
}
