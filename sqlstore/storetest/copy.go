package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// RunCopy checks sqlstore.Copy from a store that from opens into one that
// to opens, which may be of another kind: everything arrives, IDs
// unchanged, and the destination goes on numbering after them.
func RunCopy(t *testing.T, from, to Opener) {
	ctx := context.Background()
	src, _, corp := open(t, from)
	src.Sealer = sealer(t, 7)
	dst, _ := to(t) // empty: no source yet
	dst.Now = func() time.Time { return t0 }
	dst.Sealer = sealer(t, 7)

	// Fill the source store with one of everything.
	users := Create(t, src, corp, NewUser("alice", "1001", "1002"), NewUser("bob"), NewUser("carol", "3003"))
	users[1].Disabled, users[1].DisabledReason = true, roster.DisabledInDirectory
	MustApply(t, src, corp, roster.Change{Kind: roster.Update, User: users[1]})
	MustApply(t, src, corp, roster.Change{Kind: roster.Rename, OldLogin: "carol", User: func() *roster.User {
		u := *Stored(t, src, corp, "anchor-carol")
		u.Login = "carol.new"
		return &u
	}()})
	if err := src.AddCard(ctx, users[1].ID, roster.Card{Number: "M-9", Kind: roster.CardTemporary, ExpiresAt: t0.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := src.SyncGroups(ctx, corp, []roster.GroupRecord{{Anchor: "g1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{users[0].DN}}}, roster.GroupSync{Remove: true}); err != nil {
		t.Fatal(err)
	}
	run := &roster.Run{SourceID: corp, Mode: roster.RunFull, Notes: []string{"a note"}}
	if err := src.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	run.Status, run.Created, run.Failed = roster.RunHeld, 3, 1
	run.EntryErrors = []roster.EntryError{{DN: "CN=x", Message: "bad"}}
	run.HeldUsers = []int64{users[2].ID}
	run.HeldGroups, run.HeldMemberships = 2, 9
	if err := src.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	stored := &roster.Source{Name: "console", Type: roster.OpenLDAP, Address: "ldap.example.test", TLSMode: roster.LDAPS,
		Domain: "example.test", Login: "svc", Password: "Sealed-Password-1"}
	if err := src.SaveSource(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := src.CreateAdmin(ctx, "admin", "hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := src.CreateToken(ctx, "terminal", "token-hash", roster.Scope("read")); err != nil {
		t.Fatal(err)
	}
	cur := roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "4711", Scope: "s"}
	if err := src.SaveCursor(ctx, corp, cur); err != nil {
		t.Fatal(err)
	}

	if _, err := src.FailLockout(ctx, roster.AdminLockoutKey("admin"), "admin", lockPolicy, t0); err != nil {
		t.Fatal(err)
	}

	stats, err := sqlstore.Copy(ctx, dst, src)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if stats["users"] != 3 || stats["cards"] != 4 || stats["runs"] != 1 || stats["sources"] != 2 || stats["group_members"] != 1 {
		t.Errorf("copied %v", stats)
	}

	// Everything reads back the same through the store.
	show := func(db *sqlstore.DB) string {
		us, total, err := db.FindUsers(ctx, sqlstore.UserFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprint(total)
		for _, u := range us {
			groups, _ := db.UserGroups(ctx, u.ID)
			var names []string
			for _, g := range groups {
				names = append(names, g.Name)
			}
			out += fmt.Sprintf("\n%d %s %q %v %s %v %v %v %v", u.ID, u.Login, u.Name, u.Disabled, u.DisabledReason, u.Aliases, u.Cards, u.CreatedAt, names)
		}
		r, err := db.Run(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("\nrun %d %s %s %v %v %d %v %v %v %d %d", r.ID, r.Mode, r.Status, r.StartedAt, r.FinishedAt, r.Created, r.Notes, r.EntryErrors, r.HeldUsers,
			r.HeldGroups, r.HeldMemberships)
		if r.HeldGroups != 2 || r.HeldMemberships != 9 {
			t.Errorf("%s: run %d holds %d groups and %d memberships, want 2 and 9", db, r.ID, r.HeldGroups, r.HeldMemberships)
		}
		s, err := db.Source(ctx, stored.ID)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("\nsource %d %s %s %s", s.ID, s.Name, s.Address, s.Password.Reveal())
		c, _ := db.Cursor(ctx, corp)
		a, hash, _ := db.AdminByName(ctx, "admin")
		tok, _ := db.TokenBySecretHash(ctx, "token-hash")
		lock, _ := db.Lockout(ctx, roster.AdminLockoutKey("admin"))
		if lock.Failures != 1 {
			t.Errorf("%s: the admin's lockout counts %d failures, want 1", db, lock.Failures)
		}
		return out + fmt.Sprintf("\ncursor %+v\nadmin %d %s\ntoken %d %s\nlockout %+v", c, a.ID, hash, tok.ID, tok.Scope, lock)
	}
	if a, b := show(src), show(dst); a != b {
		t.Errorf("after Copy the stores differ:\n--- from\n%s\n--- to\n%s", a, b)
	}

	// The destination numbers new rows after the copied ones.
	more := Create(t, dst, corp, NewUser("dave"))
	if more[0].ID <= users[2].ID {
		t.Errorf("a new user got ID %d, not after the copied %d", more[0].ID, users[2].ID)
	}
	r2 := &roster.Run{SourceID: corp, Mode: roster.RunFull}
	if err := dst.StartRun(ctx, r2); err != nil || r2.ID <= run.ID {
		t.Errorf("a new run got ID %d (%v), not after %d", r2.ID, err, run.ID)
	}

	// A store with data is never a destination.
	_, err = sqlstore.Copy(ctx, dst, src)
	wantCode(t, err, roster.ECONFLICT)
}
