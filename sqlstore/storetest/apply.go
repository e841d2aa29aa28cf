package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func testApplyCreate(t *testing.T, o Opener) {
	db, _, source := open(t, o)
	expires := t0.Add(30 * 24 * time.Hour)
	u := NewUser("alice", "1001", "1002")
	u.Cards = append(u.Cards, roster.Card{Number: "1003", Kind: roster.CardTemporary, ExpiresAt: expires})
	u.Department, u.CostCenter, u.PrintCodeHash = "Finance", "CC-7", "hmac:abc"
	u.Disabled, u.DisabledReason = true, roster.DisabledInDirectory
	u.SeenAt = t0
	u.Extra = map[string][]string{"title": {"Clerk"}, "phone": {"1", "2"}}
	Create(t, db, source, u)

	if u.ID == 0 || u.SourceID != source || !u.CreatedAt.Equal(t0) || !u.UpdatedAt.Equal(t0) {
		t.Fatalf("Apply left the created user with ID %d, source %d, created %v, updated %v", u.ID, u.SourceID, u.CreatedAt, u.UpdatedAt)
	}
	got := Stored(t, db, source, "anchor-alice")
	if got == nil {
		t.Fatal("alice was not stored")
	}
	for _, f := range []struct{ name, got, want string }{
		{"ID", fmt.Sprint(got.ID), fmt.Sprint(u.ID)},
		{"SourceID", fmt.Sprint(got.SourceID), fmt.Sprint(source)},
		{"DN", got.DN, u.DN},
		{"Login", got.Login, "alice"},
		{"Name", got.Name, u.Name},
		{"Email", got.Email, u.Email},
		{"Department", got.Department, "Finance"},
		{"CostCenter", got.CostCenter, "CC-7"},
		{"PrintCodeHash", got.PrintCodeHash, "hmac:abc"},
		{"Disabled", fmt.Sprint(got.Disabled, " ", got.DisabledReason), "true directory"},
		{"MissingSince", fmt.Sprint(got.MissingSince.IsZero()), "true"},
		{"SeenAt", got.SeenAt.String(), t0.String()},
		{"CreatedAt", got.CreatedAt.String(), t0.String()},
		{"Extra", fmt.Sprint(got.Extra), "map[phone:[1 2] title:[Clerk]]"},
		{"Cards", fmt.Sprint(numbers(got)), "[1001/directory 1002/directory 1003/directory]"},
		{"card kinds", fmt.Sprint(got.Cards[0].Kind, " ", got.Cards[1].Kind, " ", got.Cards[2].Kind), "primary secondary temporary"},
		{"expiry", got.Cards[2].ExpiresAt.String(), expires.String()},
		{"no expiry", fmt.Sprint(got.Cards[0].ExpiresAt.IsZero()), "true"},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
}

func testApplyChanges(t *testing.T, o Opener) {
	t1 := t0.Add(time.Hour)
	tests := []struct {
		name string
		// batches are applied one after the other, each to a copy of
		// alice as stored before it.
		batches []func(u roster.User) roster.Change
		check   func(t *testing.T, u *roster.User)
	}{
		{
			name: "an update overwrites the fields and replaces only the directory cards",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				was := u.PrintCodeHash
				u.Name, u.Email, u.PrintCodeHash = "Alice Smith", "asmith@corp.test", "hmac:new"
				u.Extra = map[string][]string{"title": {"Boss"}}
				u.Cards = []roster.Card{{Number: "2001", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory}}
				return roster.Change{Kind: roster.Update, User: &u, PrintCodeWas: was, CardsChanged: true}
			}},
			check: func(t *testing.T, u *roster.User) {
				if u.Name != "Alice Smith" || u.Email != "asmith@corp.test" || u.PrintCodeHash != "hmac:new" || fmt.Sprint(u.Extra) != "map[title:[Boss]]" {
					t.Errorf("fields not updated: %+v", u)
				}
				if got := fmt.Sprint(numbers(u)); got != "[2001/directory 9001/manual]" {
					t.Errorf("cards = %s, want the manual card and the new directory card", got)
				}
			},
		},
		{
			name: "an update whose cards hold no manual card still leaves the manual card alone",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Cards = nil
				return roster.Change{Kind: roster.Update, User: &u, CardsChanged: true}
			}},
			check: func(t *testing.T, u *roster.User) {
				if got := fmt.Sprint(numbers(u)); got != "[9001/manual]" {
					t.Errorf("cards = %s, want only the manual card", got)
				}
			},
		},
		{
			name: "an update that changes only a card's kind or expiry rewrites it",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Cards = []roster.Card{{Number: "1001", Kind: roster.CardTemporary, ExpiresAt: t1, Origin: roster.CardFromDirectory}}
				return roster.Change{Kind: roster.Update, User: &u, CardsChanged: true}
			}},
			check: func(t *testing.T, u *roster.User) {
				if c := u.Cards[0]; c.Number != "1001" || c.Kind != roster.CardTemporary || !c.ExpiresAt.Equal(t1) {
					t.Errorf("card = %+v, want 1001 temporary until %v", c, t1)
				}
			},
		},
		{
			// Where the cards are copied (PostgreSQL, a batch of CopyMin
			// cards or more), the copy is refused (9001 is stored), and
			// the batch is written the plain way.
			name: "an update listing its own manual card's number keeps that card manual, and writes the others",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Cards = []roster.Card{
					{Number: "2001", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory},
					{Number: "9001", Kind: roster.CardSecondary, Origin: roster.CardFromDirectory},
				}
				return roster.Change{Kind: roster.Update, User: &u, CardsChanged: true}
			}},
			check: func(t *testing.T, u *roster.User) {
				if got := fmt.Sprint(numbers(u)); got != "[2001/directory 9001/manual]" {
					t.Errorf("cards = %s, want the new directory card and the manual card, once", got)
				}
			},
		},
		{
			name: "an update that says its cards changed writes them, in their order, kinds and all",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Cards = []roster.Card{
					{Number: "3001", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory},
					{Number: "1001", Kind: roster.CardSecondary, Origin: roster.CardFromDirectory},
				}
				return roster.Change{Kind: roster.Update, User: &u, CardsChanged: true}
			}},
			check: func(t *testing.T, u *roster.User) {
				if got := fmt.Sprint(numbers(u)); got != "[3001/directory 1001/directory 9001/manual]" {
					t.Errorf("cards = %s, want the new directory cards in their order, then the manual card", got)
				}
				if got := fmt.Sprint(u.Cards[0].Kind, " ", u.Cards[1].Kind); got != "primary secondary" {
					t.Errorf("card kinds = %s, want primary secondary", got)
				}
			},
		},
		{
			// The planner compared the cards already: the store takes its
			// word for it and neither reads nor writes them.
			name: "an update that does not say its cards changed leaves the stored ones",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Name = "Alice Smith"
				u.Cards = []roster.Card{{Number: "2001", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory}}
				return roster.Change{Kind: roster.Update, User: &u}
			}},
			check: func(t *testing.T, u *roster.User) {
				if u.Name != "Alice Smith" {
					t.Errorf("name = %q, want the update written", u.Name)
				}
				if got := fmt.Sprint(numbers(u)); got != "[1001/directory 9001/manual]" {
					t.Errorf("cards = %s, want the stored ones", got)
				}
			},
		},
		{
			name: "a rename keeps the old login as an alias",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Login, u.DN = "alicia", "CN=alicia,OU=Finance,DC=corp,DC=test"
				return roster.Change{Kind: roster.Rename, OldLogin: "alice", User: &u}
			}},
			check: func(t *testing.T, u *roster.User) {
				if u.Login != "alicia" || u.DN != "CN=alicia,OU=Finance,DC=corp,DC=test" || fmt.Sprint(u.Aliases) != "[alice]" {
					t.Errorf("after rename: login %s, DN %s, aliases %v", u.Login, u.DN, u.Aliases)
				}
			},
		},
		{
			name: "renaming twice keeps both old logins, and renaming back drops the alias now in use",
			batches: []func(roster.User) roster.Change{
				func(u roster.User) roster.Change {
					u.Login = "alicia"
					return roster.Change{Kind: roster.Rename, OldLogin: "alice", User: &u}
				},
				func(u roster.User) roster.Change {
					u.Login = "ali"
					return roster.Change{Kind: roster.Rename, OldLogin: "alicia", User: &u}
				},
				func(u roster.User) roster.Change {
					u.Login = "alice"
					return roster.Change{Kind: roster.Rename, OldLogin: "ali", User: &u}
				},
			},
			check: func(t *testing.T, u *roster.User) {
				if u.Login != "alice" || fmt.Sprint(u.Aliases) != "[alicia ali]" {
					t.Errorf("login %s, aliases %v; want alice with [alicia ali]", u.Login, u.Aliases)
				}
			},
		},
		{
			name: "a disable stores the reason and the time it went missing",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				u.Disabled, u.DisabledReason, u.MissingSince = true, roster.DisabledMissing, t1
				return roster.Change{Kind: roster.Disable, User: &u}
			}},
			check: func(t *testing.T, u *roster.User) {
				if !u.Disabled || u.DisabledReason != roster.DisabledMissing || !u.MissingSince.Equal(t1) {
					t.Errorf("after disable: %v %q %v", u.Disabled, u.DisabledReason, u.MissingSince)
				}
				if got := fmt.Sprint(numbers(u)); got != "[1001/directory 9001/manual]" {
					t.Errorf("cards = %s, want both kept", got)
				}
			},
		},
		{
			name: "a re-enable clears the disable",
			batches: []func(roster.User) roster.Change{
				func(u roster.User) roster.Change {
					u.Disabled, u.DisabledReason, u.MissingSince = true, roster.DisabledMissing, t1
					return roster.Change{Kind: roster.Disable, User: &u}
				},
				func(u roster.User) roster.Change {
					u.Disabled, u.DisabledReason, u.MissingSince = false, "", time.Time{}
					return roster.Change{Kind: roster.Reenable, User: &u}
				},
			},
			check: func(t *testing.T, u *roster.User) {
				if u.Disabled || u.DisabledReason != "" || !u.MissingSince.IsZero() {
					t.Errorf("after re-enable: %v %q %v", u.Disabled, u.DisabledReason, u.MissingSince)
				}
			},
		},
		{
			name: "a delete removes the user",
			batches: []func(roster.User) roster.Change{func(u roster.User) roster.Change {
				return roster.Change{Kind: roster.Delete, User: &roster.User{ID: u.ID, Anchor: u.Anchor}}
			}},
			check: func(t *testing.T, u *roster.User) {
				if u != nil {
					t.Errorf("deleted user is still stored: %+v", u)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, _, source := open(t, o)
			alice := Create(t, db, source, NewUser("alice", "1001"))[0]
			if err := db.AddCard(ctx, alice.ID, roster.Card{Number: "9001", Kind: roster.CardSecondary}); err != nil {
				t.Fatal(err)
			}
			db.Now = func() time.Time { return t1 }
			for _, batch := range tt.batches {
				MustApply(t, db, source, batch(*Stored(t, db, source, "anchor-alice")))
			}
			got := Stored(t, db, source, "anchor-alice")
			tt.check(t, got)
			if got != nil && (!got.UpdatedAt.Equal(t1) || !got.CreatedAt.Equal(t0)) {
				t.Errorf("created %v, updated %v; want %v, %v", got.CreatedAt, got.UpdatedAt, t0, t1)
			}
		})
	}
}

func testApplyCards(t *testing.T, o Opener) {
	// Each test starts with alice holding directory card 1001 and bob
	// holding manual card 9002.
	tests := []struct {
		name     string
		changes  func(alice, bob roster.User) []roster.Change
		conflict []string // logins the ECONFLICT message names; nil for success
		want     map[string]string
	}{
		{
			name: "a create whose card another user holds fails, and so does the rest of the batch",
			changes: func(alice, bob roster.User) []roster.Change {
				return []roster.Change{
					{Kind: roster.Create, User: NewUser("carol", "3001")},
					{Kind: roster.Create, User: NewUser("dave", "1001")},
				}
			},
			conflict: []string{"dave", "alice"},
		},
		{
			name: "an update taking another user's manual card fails, with its other fields",
			changes: func(alice, bob roster.User) []roster.Change {
				alice.Name = "changed"
				alice.Cards = []roster.Card{{Number: "9002", Origin: roster.CardFromDirectory}}
				return []roster.Change{{Kind: roster.Update, User: &alice, CardsChanged: true}}
			},
			conflict: []string{"alice", "bob"},
		},
		{
			name: "two creates claiming one card fail",
			changes: func(alice, bob roster.User) []roster.Change {
				return []roster.Change{
					{Kind: roster.Create, User: NewUser("carol", "3001")},
					{Kind: roster.Create, User: NewUser("dave", "3001")},
				}
			},
			conflict: []string{"dave", "carol"},
		},
		{
			name: "a card moves from one user to another in one batch, listed first",
			changes: func(alice, bob roster.User) []roster.Change {
				bob.Cards = []roster.Card{{Number: "1001", Origin: roster.CardFromDirectory}}
				alice.Cards = nil
				return []roster.Change{{Kind: roster.Update, User: &bob, CardsChanged: true}, {Kind: roster.Update, User: &alice, CardsChanged: true}}
			},
			want: map[string]string{"alice": "[]", "bob": "[1001/directory 9002/manual]"},
		},
		{
			name: "a card moves from a deleted user to a new one in one batch",
			changes: func(alice, bob roster.User) []roster.Change {
				return []roster.Change{
					{Kind: roster.Create, User: NewUser("carol", "1001")},
					{Kind: roster.Delete, User: &roster.User{ID: alice.ID}},
				}
			},
			want: map[string]string{"carol": "[1001/directory]"},
		},
		{
			name: "a directory card equal to the user's own manual card stays manual",
			changes: func(alice, bob roster.User) []roster.Change {
				bob.Cards = []roster.Card{{Number: "9002", Origin: roster.CardFromDirectory}, {Number: "2002"}}
				return []roster.Change{{Kind: roster.Update, User: &bob, CardsChanged: true}}
			},
			want: map[string]string{"bob": "[2002/directory 9002/manual]", "alice": "[1001/directory]"},
		},
		{
			name: "manual cards in a change are ignored",
			changes: func(alice, bob roster.User) []roster.Change {
				alice.Cards = append(alice.Cards, roster.Card{Number: "7777", Origin: roster.CardManual})
				// Said changed, so that the store writes the cards and
				// must pass over the manual one.
				return []roster.Change{{Kind: roster.Update, User: &alice, CardsChanged: true}}
			},
			want: map[string]string{"alice": "[1001/directory]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, r, source := open(t, o)
			Create(t, db, source, NewUser("alice", "1001"), NewUser("bob"))
			alice, bob := Stored(t, db, source, "anchor-alice"), Stored(t, db, source, "anchor-bob")
			if err := db.AddCard(ctx, bob.ID, roster.Card{Number: "9002"}); err != nil {
				t.Fatal(err)
			}
			bob = Stored(t, db, source, "anchor-bob")
			usersBefore := count(t, r, `SELECT COUNT(*) FROM users`)

			_, err := db.Apply(ctx, source, tt.changes(*alice, *bob))
			if tt.conflict != nil {
				wantCode(t, err, roster.ECONFLICT)
				for _, login := range tt.conflict {
					if !strings.Contains(err.Error(), login) {
						t.Errorf("conflict %q does not name %s", err, login)
					}
				}
				if n := count(t, r, `SELECT COUNT(*) FROM users`); n != usersBefore {
					t.Errorf("%d users after a failed batch, want %d", n, usersBefore)
				}
				if got := Stored(t, db, source, "anchor-alice"); got.Name != alice.Name || !slices.Equal(numbers(got), numbers(alice)) {
					t.Errorf("alice changed by a failed batch: %q %v", got.Name, numbers(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for login, want := range tt.want {
				u := Stored(t, db, source, "anchor-"+login)
				if u == nil {
					t.Fatalf("%s is not stored", login)
				}
				if got := fmt.Sprint(numbers(u)); got != want {
					t.Errorf("cards of %s = %s, want %s", login, got, want)
				}
			}
		})
	}
}

func testApplyRefuses(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	other, err := db.SourceID(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	alice := Create(t, db, source, NewUser("alice"))[0]
	outsider := Create(t, db, other, NewUser("olga"))[0]

	tests := []struct {
		name   string
		change roster.Change
		code   string
	}{
		{"an update of another source's user", roster.Change{Kind: roster.Update, User: outsider}, roster.ENOTFOUND},
		{"a delete of another source's user", roster.Change{Kind: roster.Delete, User: &roster.User{ID: outsider.ID}}, roster.ENOTFOUND},
		{"a delete of a user that is gone", roster.Change{Kind: roster.Delete, User: &roster.User{ID: 999}}, roster.ENOTFOUND},
		{"a delete whose anchor does not match", roster.Change{Kind: roster.Delete, User: &roster.User{ID: alice.ID, Anchor: "other"}}, roster.ENOTFOUND},
		{"a create of an anchor already stored", roster.Change{Kind: roster.Create, User: NewUser("alice")}, roster.ECONFLICT},
		{"a change without a user", roster.Change{Kind: roster.Update}, roster.EINVALID},
		{"an update without a user ID", roster.Change{Kind: roster.Update, User: NewUser("x")}, roster.EINVALID},
		{"a change of unknown kind", roster.Change{Kind: "merge", User: alice}, roster.EINVALID},
		{"a card without a number", roster.Change{Kind: roster.Create, User: &roster.User{Anchor: "z", Login: "z", Cards: []roster.Card{{}}}}, roster.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Apply(ctx, source, []roster.Change{tt.change})
			wantCode(t, err, tt.code)
		})
	}
	if u := Stored(t, db, other, "anchor-olga"); u == nil || u.Name != outsider.Name {
		t.Errorf("the other source's user changed: %+v", u)
	}
	if u := Stored(t, db, source, "anchor-alice"); u == nil {
		t.Error("alice is gone")
	}

	// Two creates of one anchor in one batch: neither is stored, nor
	// anything else of the batch.
	_, err = db.Apply(ctx, source, []roster.Change{
		{Kind: roster.Create, User: NewUser("yann", "7001")},
		{Kind: roster.Create, User: NewUser("zed")},
		{Kind: roster.Create, User: NewUser("zed")},
	})
	wantCode(t, err, roster.ECONFLICT)
	for _, anchor := range []string{"anchor-yann", "anchor-zed"} {
		if u := Stored(t, db, source, anchor); u != nil {
			t.Errorf("a refused batch stored %s", u.Login)
		}
	}
}

// Apply returns the user's ID for each change, in order, the new ones
// for creates, and writes nothing into the changes it was given: the
// caller's structs are the caller's.
func testApplyReturnsIDs(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	alice, bob := Create(t, db, source, NewUser("alice", "1001"), NewUser("bob"))[0], Stored(t, db, source, "anchor-bob")
	update := *alice
	update.Name = "Alice Smith"
	carol, dave := NewUser("carol", "3001"), NewUser("dave")
	changes := []roster.Change{
		{Kind: roster.Create, User: carol},
		{Kind: roster.Update, User: &update},
		{Kind: roster.Delete, User: &roster.User{ID: bob.ID}},
		{Kind: roster.Create, User: dave},
	}
	before := fmt.Sprintf("%+v %+v %+v", *carol, update, *dave)
	ids, err := db.Apply(ctx, source, changes)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if after := fmt.Sprintf("%+v %+v %+v", *carol, update, *dave); after != before {
		t.Errorf("Apply wrote into the changes' users:\n before %s\n after  %s", before, after)
	}
	stored := func(anchor string) int64 {
		if u := Stored(t, db, source, anchor); u != nil {
			return u.ID
		}
		return -1
	}
	want := []int64{stored("anchor-carol"), alice.ID, bob.ID, stored("anchor-dave")}
	if !slices.Equal(ids, want) {
		t.Errorf("Apply returned %v, want %v (carol, alice, bob, dave)", ids, want)
	}
	if slices.Contains(want, -1) || want[0] == want[3] {
		t.Errorf("carol and dave stored as %d and %d", want[0], want[3])
	}

	// A refused batch returns no IDs.
	ids, err = db.Apply(ctx, source, []roster.Change{{Kind: roster.Create, User: NewUser("erin")}, {Kind: roster.Create, User: NewUser("carol")}})
	wantCode(t, err, roster.ECONFLICT)
	if ids != nil {
		t.Errorf("a refused Apply returned IDs %v", ids)
	}
	if u := Stored(t, db, source, "anchor-erin"); u != nil {
		t.Errorf("a refused Apply stored erin, whose own create was fine: %+v", u)
	}
}

// endsAfter is a context that is cancelled at the n-th time its Err is
// asked for: a sync cancelled while Apply writes.
type endsAfter struct {
	context.Context
	cancel context.CancelFunc
	n      atomic.Int64
	asked  atomic.Int64
}

func (c *endsAfter) Err() error {
	if c.asked.Add(1) == c.n.Load() {
		c.cancel()
	}
	return c.Context.Err()
}

// An Apply whose context ends while it writes stops at the next row,
// returns the context's error and writes none of its changes. (On
// SQLite, the one-row statements run under a context that cannot end,
// and Apply checks its own between the rows: Dialect.rowContext. The
// context here ends when its Err is asked for, as Apply does between
// rows: neither database/sql nor the drivers ask before Done is closed.)
func testApplyStopsWhenCancelled(t *testing.T, o Opener) {
	db, _, source := open(t, o)
	const n = 200
	users := make([]*roster.User, n)
	for i := range users {
		users[i] = NewUser(fmt.Sprintf("user%03d", i))
	}
	stored := Create(t, db, source, users...)
	changes := make([]roster.Change, n)
	for i, u := range stored {
		next := *u
		next.Name = "Renamed"
		changes[i] = roster.Change{Kind: roster.Update, Login: u.Login, DN: u.DN, User: &next}
	}
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := &endsAfter{Context: parent, cancel: cancel}
	ctx.n.Store(n / 4)
	_, err := db.Apply(ctx, source, changes)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply under a context cancelled while it writes: %v, want the context's error", err)
	}
	// Three asks after the cancel at most: the row that finds it, the
	// rollback's, and the transaction's, which tells a write it broke
	// off by it (runTx).
	if asked := ctx.asked.Load(); asked > n/4+3 {
		t.Errorf("Apply asked the context %d times for %d rows, after it was cancelled at the %dth: it did not stop at the next row", asked, n, n/4)
	}
	for _, u := range stored {
		got, err := db.UserByID(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != u.Name {
			t.Fatalf("user %s is named %q after a cancelled Apply, want %q", u.Login, got.Name, u.Name)
		}
	}
}

// cancelsAt is a context cancelled at the at-th time its Err or Done is
// called, whoever calls it: the store, database/sql or the driver (pgx
// watches Done while a statement or a copy runs).
type cancelsAt struct {
	context.Context
	cancel context.CancelFunc
	at     int64
	calls  atomic.Int64
}

func (c *cancelsAt) tick() {
	if c.calls.Add(1) == c.at {
		c.cancel()
	}
}

func (c *cancelsAt) Err() error { c.tick(); return c.Context.Err() }

func (c *cancelsAt) Done() <-chan struct{} { c.tick(); return c.Context.Done() }

// An Apply of creates cancelled at any point, the k-th use of its
// context for every k, stores all of its users or none, and fails with
// the context's error, if at all. (Cancelled while the database commits,
// it may fail with every user stored: the client cannot tell whether a
// commit it broke off was done. The next sync finds them.) On PostgreSQL
// a cancel during a statement, or during the copy of the users or the
// cards (copyCreates, copyCards, where the dialect copies so few), breaks
// the connection off: what it reports must still be the context's
// error, which a sync records as cancelled, not failed.
func testApplyOfCreatesCancelledAnywhere(t *testing.T, o Opener) {
	db, _, _ := open(t, o)
	const n = 30
	for k := int64(1); ; k++ {
		if k > 3000 {
			t.Fatal("an Apply of 30 creates used its context more than 3,000 times")
		}
		source, err := db.SourceID(context.Background(), fmt.Sprintf("cancelled-at-%d", k))
		if err != nil {
			t.Fatal(err)
		}
		changes := make([]roster.Change, n)
		for i := range changes {
			u := NewUser(fmt.Sprintf("u%02d", i), fmt.Sprintf("%d-%02d", k, i))
			changes[i] = roster.Change{Kind: roster.Create, Login: u.Login, DN: u.DN, User: u}
		}
		parent, cancel := context.WithCancel(context.Background())
		ctx := &cancelsAt{Context: parent, cancel: cancel, at: k}
		_, err = db.Apply(ctx, source, changes)
		cancel()
		stored, cerr := db.CountUsers(context.Background(), source)
		if cerr != nil {
			t.Fatal(cerr)
		}
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			t.Fatalf("cancelled at the %dth use of its context, Apply: %v, want the context's error", k, err)
		case err != nil && stored != 0 && stored != n:
			t.Fatalf("cancelled at the %dth use of its context, Apply failed and stored %d users of %d", k, stored, n)
		case err == nil && stored != n:
			t.Fatalf("cancelled at the %dth use of its context, Apply succeeded and stored %d users of %d", k, stored, n)
		}
		if ctx.calls.Load() < k {
			if err != nil {
				t.Fatalf("Apply failed without being cancelled: %v", err)
			}
			t.Logf("an Apply of %d creates, cancelled at each of its %d uses of its context", n, k-1)
			return // never cancelled: every point of the Apply was tried
		}
	}
}
