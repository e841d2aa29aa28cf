package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// many returns n directory users u0000, u0001, ..., each with one card.
func many(n int) []*roster.User {
	users := make([]*roster.User, n)
	for i := range users {
		users[i] = NewUser(fmt.Sprintf("u%04d", i), fmt.Sprintf("c%04d", i))
	}
	return users
}

func testUsersByAnchor(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	other, _ := db.SourceID(ctx, "other")
	Create(t, db, source, many(1200)...) // more than two chunks of anchors
	Create(t, db, other, NewUser("u0001"))

	var anchors []string
	for i := 0; i < 1200; i += 2 {
		anchors = append(anchors, fmt.Sprintf("anchor-u%04d", i))
	}
	anchors = append(anchors, "anchor-u0000", "anchor-nobody", "anchor-u0001")
	got, err := db.UsersByAnchor(ctx, source, anchors)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 601 {
		t.Fatalf("got %d users, want 601 (600 even ones and u0001)", len(got))
	}
	if _, ok := got["anchor-nobody"]; ok {
		t.Error("a missing anchor is in the map")
	}
	u := got["anchor-u1198"]
	if u == nil || u.Login != "u1198" || fmt.Sprint(numbers(u)) != "[c1198/directory]" {
		t.Errorf("u1198 = %+v", u)
	}
	if u := got["anchor-u0001"]; u == nil || u.SourceID != source {
		t.Errorf("anchor-u0001 came from the wrong source: %+v", u)
	}
	if got, err := db.UsersByAnchor(ctx, source, nil); err != nil || len(got) != 0 {
		t.Errorf("no anchors gave %v, %v", got, err)
	}
}

func testLoginOwners(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	other, _ := db.SourceID(ctx, "other")
	// The first bob was renamed zed; a new bob came and took the login,
	// which leaves zed's aliases. Former logins are not owners.
	zed := Create(t, db, source, &roster.User{Anchor: "anchor-zed", Login: "bob"})[0]
	zed.Login = "zed"
	MustApply(t, db, source, roster.Change{Kind: roster.Rename, OldLogin: "bob", User: zed})
	alice := Create(t, db, source, NewUser("alice"), NewUser("bob"))[0]
	alice.Login = "alicia"
	MustApply(t, db, source, roster.Change{Kind: roster.Rename, OldLogin: "alice", User: alice})
	Create(t, db, other, NewUser("carol"))

	got, err := db.LoginOwners(ctx, source, []string{"alice", "alicia", "bob", "zed", "carol", "nobody", "ALICIA"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alicia": "anchor-alice", "bob": "anchor-bob", "zed": "anchor-zed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("LoginOwners = %v, want %v", got, want)
	}
	users, err := db.UsersByAnchor(ctx, source, []string{"anchor-zed", "anchor-alice"})
	if err != nil {
		t.Fatal(err)
	}
	if a := users["anchor-zed"].Aliases; len(a) != 0 {
		t.Errorf("zed still has the aliases %v after the new bob took the login", a)
	}
	if a := users["anchor-alice"].Aliases; len(a) != 1 || a[0] != "alice" {
		t.Errorf("alicia's aliases = %v, want [alice]", a)
	}
}

func testUsers(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	other, _ := db.SourceID(ctx, "other")
	Create(t, db, source, many(600)...)
	Create(t, db, other, NewUser("x"))
	Create(t, db, source, many(1100)[600:]...) // IDs of both sources interleave

	t.Run("every user of the source comes once, in ID order, with cards", func(t *testing.T) {
		var n int
		var last int64
		err := db.Users(ctx, source, func(u *roster.User) error {
			if u.ID <= last {
				return fmt.Errorf("user %d after %d", u.ID, last)
			}
			if u.SourceID != source || len(u.Cards) != 1 || u.Cards[0].Number != "c"+u.Login[1:] {
				return fmt.Errorf("user %+v", u)
			}
			last = u.ID
			n++
			return nil
		})
		if err != nil || n != 1100 {
			t.Fatalf("Users visited %d users, %v; want 1100", n, err)
		}
	})

	t.Run("an error from fn stops the walk and is returned", func(t *testing.T) {
		stop := errors.New("stop")
		var n int
		err := db.Users(ctx, source, func(*roster.User) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Fatalf("Users returned %v after %d users, want stop after 3", err, n)
		}
	})
}

func testFindUsers(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	other, _ := db.SourceID(ctx, "other")
	alice := NewUser("alice")
	alice.Name, alice.Email = "A. Smith", "as@corp.test" // only the alias holds "alice"
	bob := NewUser("bob")
	bob.Email = "robert@corp.test"
	bob.Disabled, bob.DisabledReason = true, roster.DisabledByAdmin
	under := NewUser("ann_b")
	Create(t, db, source, alice, bob, under)
	alice.Login = "asmith"
	MustApply(t, db, source, roster.Change{Kind: roster.Rename, OldLogin: "alice", User: alice})
	Create(t, db, other, NewUser("annie"))
	yes, no := true, false

	tests := []struct {
		name   string
		filter sqlstore.UserFilter
		want   string // logins of the page
		total  int
	}{
		{"no filter returns everybody by login", sqlstore.UserFilter{}, "ann_b annie asmith bob", 4},
		{"a former login finds the user", sqlstore.UserFilter{Query: "lice"}, "asmith", 1},
		{"the query ignores case", sqlstore.UserFilter{Query: "SMITH"}, "asmith", 1},
		{"the query matches the email", sqlstore.UserFilter{Query: "robert"}, "bob", 1},
		{"the query matches the name", sqlstore.UserFilter{Query: "User ann"}, "ann_b annie", 2},
		{"an underscore matches only itself", sqlstore.UserFilter{Query: "nn_"}, "ann_b", 1},
		{"a percent sign matches only itself", sqlstore.UserFilter{Query: "%"}, "", 0},
		{"disabled users only", sqlstore.UserFilter{Disabled: &yes}, "bob", 1},
		{"enabled users only", sqlstore.UserFilter{Disabled: &no}, "ann_b annie asmith", 3},
		{"one source only", sqlstore.UserFilter{SourceID: other}, "annie", 1},
		{"a page counts every match", sqlstore.UserFilter{Offset: 1, Limit: 2}, "annie asmith", 4},
		{"a page past the end is empty", sqlstore.UserFilter{Offset: 10, Limit: 2}, "", 4},
		{"filters combine", sqlstore.UserFilter{Query: "ann", SourceID: source, Disabled: &no}, "ann_b", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, total, err := db.FindUsers(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var logins []string
			for _, u := range users {
				logins = append(logins, u.Login)
			}
			if got := strings.Join(logins, " "); got != tt.want || total != tt.total {
				t.Errorf("FindUsers = %q of %d, want %q of %d", got, total, tt.want, tt.total)
			}
		})
	}
	users, _, _ := db.FindUsers(ctx, sqlstore.UserFilter{Query: "asmith"})
	if len(users) != 1 || fmt.Sprint(users[0].Aliases) != "[alice]" {
		t.Errorf("FindUsers does not return aliases: %+v", users)
	}
}

func testUserByLogin(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	zed := Create(t, db, source, &roster.User{Anchor: "anchor-zed", Login: "bob"})[0]
	zed.Login = "zed"
	MustApply(t, db, source, roster.Change{Kind: roster.Rename, OldLogin: "bob", User: zed})
	Create(t, db, source, NewUser("bob", "1001"))

	tests := []struct {
		login, want string
	}{
		{"zed", "anchor-zed"},
		{"bob", "anchor-bob"}, // the new bob took the login from zed's aliases
	}
	for _, tt := range tests {
		u, err := db.UserByLogin(ctx, tt.login)
		if err != nil || u.Anchor != tt.want {
			t.Errorf("UserByLogin(%s) = %+v, %v; want %s", tt.login, u, err, tt.want)
		}
	}
	u, _ := db.UserByLogin(ctx, "bob")
	if fmt.Sprint(numbers(u)) != "[1001/directory]" {
		t.Errorf("UserByLogin does not return cards: %v", numbers(u))
	}
	MustApply(t, db, source, roster.Change{Kind: roster.Delete, User: &roster.User{ID: u.ID}})
	if u, err := db.UserByLogin(ctx, "bob"); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Errorf("with the new bob gone, UserByLogin(bob) = %+v, %v; want not found: the alias went to the new bob", u, err)
	}
	_, err := db.UserByLogin(ctx, "nobody")
	wantCode(t, err, roster.ENOTFOUND)
}

func testUserByID(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	alice := Create(t, db, source, NewUser("alice", "1001"))[0]
	u, err := db.UserByID(ctx, alice.ID)
	if err != nil || u.Login != "alice" || fmt.Sprint(numbers(u)) != "[1001/directory]" {
		t.Errorf("UserByID = %+v, %v", u, err)
	}
	_, err = db.UserByID(ctx, alice.ID+1)
	wantCode(t, err, roster.ENOTFOUND)
}

func testAddCard(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)
	users := Create(t, db, source, NewUser("alice", "1001"), NewUser("bob"))
	alice, bob := users[0], users[1]

	tests := []struct {
		name   string
		userID int64
		card   roster.Card
		code   string
	}{
		{"a new number is added as a manual card", bob.ID, roster.Card{Number: "5005", Origin: roster.CardFromDirectory}, ""},
		{"another user's directory card is refused", bob.ID, roster.Card{Number: "1001"}, roster.ECONFLICT},
		{"a number the user holds is refused", alice.ID, roster.Card{Number: "1001"}, roster.ECONFLICT},
		{"an unknown user is refused", 999, roster.Card{Number: "6006"}, roster.ENOTFOUND},
		{"an empty number is refused", bob.ID, roster.Card{}, roster.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, db.AddCard(ctx, tt.userID, tt.card), tt.code)
		})
	}
	if got := fmt.Sprint(numbers(Stored(t, db, source, "anchor-bob"))); got != "[5005/manual]" {
		t.Errorf("bob's cards = %s", got)
	}
}

// A terminal's sign-in must name one person: a current login wins over a
// former one, and a login two sources hold is refused, naming both.
func testUserToSignIn(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	zed := Create(t, db, corp, &roster.User{Anchor: "anchor-zed", Login: "bob"})[0]
	zed.Login = "zed"
	MustApply(t, db, corp, roster.Change{Kind: roster.Rename, OldLogin: "bob", User: zed})
	Create(t, db, corp, NewUser("alice", "1001"))
	lab, err := db.SourceID(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}

	if u, err := db.UserToSignIn(ctx, "bob"); err != nil || u.Anchor != "anchor-zed" {
		t.Fatalf("UserToSignIn(bob), zed's former login = %+v, %v", u, err)
	}
	if u, err := db.UserToSignIn(ctx, "alice"); err != nil || u.Anchor != "anchor-alice" || fmt.Sprint(numbers(u)) != "[1001/directory]" {
		t.Fatalf("UserToSignIn(alice) = %+v, %v; want alice with her card", u, err)
	}
	Create(t, db, lab, NewUser("alice"), NewUser("bob"))
	_, err = db.UserToSignIn(ctx, "alice")
	wantCode(t, err, roster.ECONFLICT)
	if msg := roster.ErrorMessage(err); !strings.Contains(msg, "the source corp") || !strings.Contains(msg, "the source lab") {
		t.Errorf("the conflict does not name both sources: %s", msg)
	}
	// The lab's bob holds the login now; zed only held it before.
	if u, err := db.UserToSignIn(ctx, "bob"); err != nil || u.SourceID != lab {
		t.Fatalf("UserToSignIn(bob) = %+v, %v; want the lab's bob", u, err)
	}
	_, err = db.UserToSignIn(ctx, "nobody")
	wantCode(t, err, roster.ENOTFOUND)
}
