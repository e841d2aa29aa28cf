package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/reconcile"
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
		batches []func(u roster.User) reconcile.Change
		check   func(t *testing.T, u *roster.User)
	}{
		{
			name: "an update overwrites the fields and replaces only the directory cards",
			batches: []func(roster.User) reconcile.Change{func(u roster.User) reconcile.Change {
				was := u.PrintCodeHash
				u.Name, u.Email, u.PrintCodeHash = "Alice Smith", "asmith@corp.test", "hmac:new"
				u.Extra = map[string][]string{"title": {"Boss"}}
				u.Cards = []roster.Card{{Number: "2001", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory}}
				return reconcile.Change{Kind: reconcile.Update, User: &u, PrintCodeWas: was}
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
			batches: []func(roster.User) reconcile.Change{func(u roster.User) reconcile.Change {
				u.Cards = nil
				return reconcile.Change{Kind: reconcile.Update, User: &u}
			}},
			check: func(t *testing.T, u *roster.User) {
				if got := fmt.Sprint(numbers(u)); got != "[9001/manual]" {
					t.Errorf("cards = %s, want only the manual card", got)
				}
			},
		},
		{
			name: "an update that changes only a card's kind or expiry rewrites it",
			batches: []func(roster.User) reconcile.Change{func(u roster.User) reconcile.Change {
				u.Cards = []roster.Card{{Number: "1001", Kind: roster.CardTemporary, ExpiresAt: t1, Origin: roster.CardFromDirectory}}
				return reconcile.Change{Kind: reconcile.Update, User: &u}
			}},
			check: func(t *testing.T, u *roster.User) {
				if c := u.Cards[0]; c.Number != "1001" || c.Kind != roster.CardTemporary || !c.ExpiresAt.Equal(t1) {
					t.Errorf("card = %+v, want 1001 temporary until %v", c, t1)
				}
			},
		},
		{
			name: "a rename keeps the old login as an alias",
			batches: []func(roster.User) reconcile.Change{func(u roster.User) reconcile.Change {
				u.Login, u.DN = "alicia", "CN=alicia,OU=Finance,DC=corp,DC=test"
				return reconcile.Change{Kind: reconcile.Rename, OldLogin: "alice", User: &u}
			}},
			check: func(t *testing.T, u *roster.User) {
				if u.Login != "alicia" || u.DN != "CN=alicia,OU=Finance,DC=corp,DC=test" || fmt.Sprint(u.Aliases) != "[alice]" {
					t.Errorf("after rename: login %s, DN %s, aliases %v", u.Login, u.DN, u.Aliases)
				}
			},
		},
		{
			name: "renaming twice keeps both old logins, and renaming back drops the alias now in use",
			batches: []func(roster.User) reconcile.Change{
				func(u roster.User) reconcile.Change {
					u.Login = "alicia"
					return reconcile.Change{Kind: reconcile.Rename, OldLogin: "alice", User: &u}
				},
				func(u roster.User) reconcile.Change {
					u.Login = "ali"
					return reconcile.Change{Kind: reconcile.Rename, OldLogin: "alicia", User: &u}
				},
				func(u roster.User) reconcile.Change {
					u.Login = "alice"
					return reconcile.Change{Kind: reconcile.Rename, OldLogin: "ali", User: &u}
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
			batches: []func(roster.User) reconcile.Change{func(u roster.User) reconcile.Change {
				u.Disabled, u.DisabledReason, u.MissingSince = true, roster.DisabledMissing, t1
				return reconcile.Change{Kind: reconcile.Disable, User: &u}
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
			batches: []func(roster.User) reconcile.Change{
				func(u roster.User) reconcile.Change {
					u.Disabled, u.DisabledReason, u.MissingSince = true, roster.DisabledMissing, t1
					return reconcile.Change{Kind: reconcile.Disable, User: &u}
				},
				func(u roster.User) reconcile.Change {
					u.Disabled, u.DisabledReason, u.MissingSince = false, "", time.Time{}
					return reconcile.Change{Kind: reconcile.Reenable, User: &u}
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
			batches: []func(roster.User) reconcile.Change{func(u roster.User) reconcile.Change {
				return reconcile.Change{Kind: reconcile.Delete, User: &roster.User{ID: u.ID, Anchor: u.Anchor}}
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
		changes  func(alice, bob roster.User) []reconcile.Change
		conflict []string // logins the ECONFLICT message names; nil for success
		want     map[string]string
	}{
		{
			name: "a create whose card another user holds fails, and so does the rest of the batch",
			changes: func(alice, bob roster.User) []reconcile.Change {
				return []reconcile.Change{
					{Kind: reconcile.Create, User: NewUser("carol", "3001")},
					{Kind: reconcile.Create, User: NewUser("dave", "1001")},
				}
			},
			conflict: []string{"dave", "alice"},
		},
		{
			name: "an update taking another user's manual card fails, with its other fields",
			changes: func(alice, bob roster.User) []reconcile.Change {
				alice.Name = "changed"
				alice.Cards = []roster.Card{{Number: "9002", Origin: roster.CardFromDirectory}}
				return []reconcile.Change{{Kind: reconcile.Update, User: &alice}}
			},
			conflict: []string{"alice", "bob"},
		},
		{
			name: "two creates claiming one card fail",
			changes: func(alice, bob roster.User) []reconcile.Change {
				return []reconcile.Change{
					{Kind: reconcile.Create, User: NewUser("carol", "3001")},
					{Kind: reconcile.Create, User: NewUser("dave", "3001")},
				}
			},
			conflict: []string{"dave", "carol"},
		},
		{
			name: "a card moves from one user to another in one batch, listed first",
			changes: func(alice, bob roster.User) []reconcile.Change {
				bob.Cards = []roster.Card{{Number: "1001", Origin: roster.CardFromDirectory}}
				alice.Cards = nil
				return []reconcile.Change{{Kind: reconcile.Update, User: &bob}, {Kind: reconcile.Update, User: &alice}}
			},
			want: map[string]string{"alice": "[]", "bob": "[1001/directory 9002/manual]"},
		},
		{
			name: "a card moves from a deleted user to a new one in one batch",
			changes: func(alice, bob roster.User) []reconcile.Change {
				return []reconcile.Change{
					{Kind: reconcile.Create, User: NewUser("carol", "1001")},
					{Kind: reconcile.Delete, User: &roster.User{ID: alice.ID}},
				}
			},
			want: map[string]string{"carol": "[1001/directory]"},
		},
		{
			name: "a directory card equal to the user's own manual card stays manual",
			changes: func(alice, bob roster.User) []reconcile.Change {
				bob.Cards = []roster.Card{{Number: "9002", Origin: roster.CardFromDirectory}, {Number: "2002"}}
				return []reconcile.Change{{Kind: reconcile.Update, User: &bob}}
			},
			want: map[string]string{"bob": "[2002/directory 9002/manual]", "alice": "[1001/directory]"},
		},
		{
			name: "manual cards in a change are ignored",
			changes: func(alice, bob roster.User) []reconcile.Change {
				alice.Cards = append(alice.Cards, roster.Card{Number: "7777", Origin: roster.CardManual})
				return []reconcile.Change{{Kind: reconcile.Update, User: &alice}}
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

			err := db.Apply(ctx, source, tt.changes(*alice, *bob))
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
		change reconcile.Change
		code   string
	}{
		{"an update of another source's user", reconcile.Change{Kind: reconcile.Update, User: outsider}, roster.ENOTFOUND},
		{"a delete of another source's user", reconcile.Change{Kind: reconcile.Delete, User: &roster.User{ID: outsider.ID}}, roster.ENOTFOUND},
		{"a delete of a user that is gone", reconcile.Change{Kind: reconcile.Delete, User: &roster.User{ID: 999}}, roster.ENOTFOUND},
		{"a delete whose anchor does not match", reconcile.Change{Kind: reconcile.Delete, User: &roster.User{ID: alice.ID, Anchor: "other"}}, roster.ENOTFOUND},
		{"a create of an anchor already stored", reconcile.Change{Kind: reconcile.Create, User: NewUser("alice")}, roster.ECONFLICT},
		{"a change without a user", reconcile.Change{Kind: reconcile.Update}, roster.EINVALID},
		{"an update without a user ID", reconcile.Change{Kind: reconcile.Update, User: NewUser("x")}, roster.EINVALID},
		{"a change of unknown kind", reconcile.Change{Kind: "merge", User: alice}, roster.EINVALID},
		{"a card without a number", reconcile.Change{Kind: reconcile.Create, User: &roster.User{Anchor: "z", Login: "z", Cards: []roster.Card{{}}}}, roster.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, db.Apply(ctx, source, []reconcile.Change{tt.change}), tt.code)
		})
	}
	if u := Stored(t, db, other, "anchor-olga"); u == nil || u.Name != outsider.Name {
		t.Errorf("the other source's user changed: %+v", u)
	}
	if u := Stored(t, db, source, "anchor-alice"); u == nil {
		t.Error("alice is gone")
	}
}
