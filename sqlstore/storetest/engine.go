package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore"
)

// EngineStore is a store as the sync engine sees it, opened for one test.
// The engine's tests run on an in-memory fake of reconcile.Store, and
// roster runs on a SQL store: RunEngineStore holds both to the same
// contracts, going through Store only, and through AddManualCard for what
// that interface cannot write.
type EngineStore struct {
	Store reconcile.Store
	// Source and Other are two sources of the store, distinct, with no
	// users, groups, runs or cursor yet.
	Source, Other int64
	// AddManualCard gives the user userID a card added by hand, with
	// Origin manual, as an admin does. The engine writes directory cards
	// only; the contracts say what becomes of the manual ones.
	AddManualCard func(userID int64, number string) error
}

// EngineOpener returns a new, empty store for one test; it is closed when
// the test ends.
type EngineOpener func(t *testing.T) EngineStore

// SQLEngineStore is the EngineStore of db, a new SQL store: its sources
// are named corp and other, and its manual cards are added with AddCard.
func SQLEngineStore(t testing.TB, db *sqlstore.DB) EngineStore {
	t.Helper()
	ctx := context.Background()
	s := EngineStore{Store: db}
	var err error
	if s.Source, err = db.SourceID(ctx, "corp"); err != nil {
		t.Fatalf("SourceID: %v", err)
	}
	if s.Other, err = db.SourceID(ctx, "other"); err != nil {
		t.Fatalf("SourceID: %v", err)
	}
	s.AddManualCard = func(userID int64, number string) error {
		return db.AddCard(ctx, userID, roster.Card{Number: number, Kind: roster.CardSecondary})
	}
	return s
}

// RunEngineStore runs the conformance tests of the engine's store
// (reconcile.Store) against stores that o opens. Each case checks what
// the interface's contract comments (and those of roster.Change, which
// Apply refers to) promise, and nothing more, so that any store that
// keeps the contracts passes.
func RunEngineStore(t *testing.T, o EngineOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, EngineStore)
	}{
		{"UsersByAnchor returns the source's users with their aliases and cards", engineUsersByAnchor},
		{"LoginOwners counts current logins only", engineLoginOwners},
		{"the lookups find odd anchors and logins, and many at once", engineOddLookups},
		{"a login freed by a rename goes to its new holder", engineFreedLogin},
		{"Users visits the source's users in ID order", engineUsers},
		{"Apply returns one ID per change in their order", engineApplyIDs},
		{"Apply keeps each user's ID and cards whatever the order of anchors and numbers", engineApplyUnordered},
		{"Apply writes nothing into the changes or their users", engineApplyLeavesChanges},
		{"a refused Apply writes none of its changes", engineApplyAllOrNothing},
		{"Apply refuses to change another source's users", engineApplyOtherSource},
		{"Apply replaces directory cards only when they changed", engineApplyCards},
		{"Apply writes a print code only over the one planned from", engineApplyPrintCode},
		{"UserDigests returns the fingerprints Apply and SaveFingerprints kept", engineDigests},
		{"PlanGroups says what SyncGroups with Remove writes", enginePlanGroups},
		{"SyncGroups writes the groups and the cursor together or not at all", engineSyncGroupsRefused},
		{"groups are kept per source", engineGroupsPerSource},
		{"StartRun gives each run an ID", engineStartRun},
		{"HeldRemovals returns the latest held run until a full run succeeds", engineHeldRemovals},
		{"a run holds nothing until FinishRun stores it", engineHoldNeedsFinishRun},
		{"Cursor returns what SaveCursor saved, per source", engineCursor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, o(t)) })
	}
}

// creates returns one Create change for each user.
func creates(users ...*roster.User) []roster.Change {
	var out []roster.Change
	for _, u := range users {
		out = append(out, roster.Change{Kind: roster.Create, Login: u.Login, DN: u.DN, User: u})
	}
	return out
}

// apply applies changes to source, failing the test on an error, and
// returns the IDs Apply returned.
func (s EngineStore) apply(t *testing.T, source int64, changes ...roster.Change) []int64 {
	t.Helper()
	ids, err := s.Store.Apply(context.Background(), source, changes)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(ids) != len(changes) {
		t.Fatalf("Apply of %d changes returned %d IDs", len(changes), len(ids))
	}
	return ids
}

// create stores users in source and sets their IDs to those Apply
// returned, so that later changes can name them.
func (s EngineStore) create(t *testing.T, source int64, users ...*roster.User) []*roster.User {
	t.Helper()
	for i, id := range s.apply(t, source, creates(users...)...) {
		users[i].ID = id
	}
	return users
}

// user reads back the user of source with this anchor, nil when absent.
func (s EngineStore) user(t *testing.T, source int64, anchor string) *roster.User {
	t.Helper()
	m, err := s.Store.UsersByAnchor(context.Background(), source, []string{anchor})
	if err != nil {
		t.Fatalf("UsersByAnchor: %v", err)
	}
	return m[anchor]
}

// cardsOf lists a user's directory cards in order as number/kind, then
// its manual cards as number/manual, sorted: only the order of the
// directory cards is part of a user's data.
func cardsOf(u *roster.User) string {
	var dir, manual []string
	for _, c := range u.Cards {
		if c.Origin == roster.CardManual {
			manual = append(manual, c.Number+"/manual")
		} else {
			dir = append(dir, c.Number+"/"+string(c.Kind)+"/"+string(c.Origin))
		}
	}
	slices.Sort(manual)
	return fmt.Sprint(append(dir, manual...))
}

func engineUsersByAnchor(t *testing.T, s EngineStore) {
	ctx := context.Background()
	seen, missing := t0.Add(-time.Hour), t0.Add(-30*time.Minute)
	alice := NewUser("alice", "1001", "1002")
	alice.Department, alice.CostCenter, alice.PrintCodeHash = "Finance", "CC-7", "h:alice"
	alice.Disabled, alice.DisabledReason, alice.SeenAt, alice.MissingSince = true, roster.DisabledMissing, seen, missing
	alice.Extra = map[string][]string{"title": {"Clerk"}}
	s.create(t, s.Source, alice, NewUser("bob"))
	twin := NewUser("alice", "5005") // the same anchor in the other source
	s.create(t, s.Other, twin)
	renamed := *alice
	renamed.Login = "alicia"
	s.apply(t, s.Source, roster.Change{Kind: roster.Rename, Login: "alicia", OldLogin: "alice", DN: alice.DN, User: &renamed})
	if err := s.AddManualCard(alice.ID, "9001"); err != nil {
		t.Fatalf("AddManualCard: %v", err)
	}

	got, err := s.Store.UsersByAnchor(ctx, s.Source, []string{"anchor-alice", "anchor-nobody", "anchor-bob"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["anchor-bob"] == nil {
		t.Fatalf("UsersByAnchor returned %v, want alice and bob and no entry for a missing anchor", got)
	}
	u := got["anchor-alice"]
	if u == nil || u.ID != alice.ID {
		t.Fatalf("anchor-alice = %+v, want the user Apply created with ID %d, not the other source's", u, alice.ID)
	}
	for _, f := range []struct{ name, got, want string }{
		{"Anchor", u.Anchor, "anchor-alice"},
		{"DN", u.DN, alice.DN},
		{"Login", u.Login, "alicia"},
		{"Aliases", fmt.Sprint(u.Aliases), "[alice]"},
		{"Name", u.Name, alice.Name},
		{"Email", u.Email, alice.Email},
		{"Department", u.Department, "Finance"},
		{"CostCenter", u.CostCenter, "CC-7"},
		{"PrintCodeHash", u.PrintCodeHash, "h:alice"},
		{"Disabled", fmt.Sprint(u.Disabled, " ", u.DisabledReason), "true missing"},
		{"SeenAt", fmt.Sprint(u.SeenAt.Equal(seen)), "true"},
		{"MissingSince", fmt.Sprint(u.MissingSince.Equal(missing)), "true"},
		{"Extra", fmt.Sprint(u.Extra), "map[title:[Clerk]]"},
		{"Cards", cardsOf(u), "[1001/primary/directory 1002/secondary/directory 9001/manual]"},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if u := got["anchor-bob"]; u.Login != "bob" || len(u.Aliases) != 0 || len(u.Cards) != 0 {
		t.Errorf("bob = %+v, want no aliases and no cards", u)
	}
	if got, err := s.Store.UsersByAnchor(ctx, s.Source, nil); err != nil || len(got) != 0 {
		t.Errorf("UsersByAnchor of no anchors = %v, %v; want none", got, err)
	}
	if u := s.user(t, s.Other, "anchor-alice"); u == nil || u.ID != twin.ID || u.Login != "alice" || cardsOf(u) != "[5005/primary/directory]" {
		t.Errorf("the other source's anchor-alice = %+v, want its own user", u)
	}
}

func engineLoginOwners(t *testing.T, s EngineStore) {
	ctx := context.Background()
	alice := s.create(t, s.Source, NewUser("alice"), NewUser("bob"))[0]
	s.create(t, s.Other, NewUser("carol"))
	alice.Login = "alicia"
	s.apply(t, s.Source, roster.Change{Kind: roster.Rename, Login: "alicia", OldLogin: "alice", DN: alice.DN, User: alice})

	got, err := s.Store.LoginOwners(ctx, s.Source, []string{"alice", "alicia", "bob", "carol", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alicia": "anchor-alice", "bob": "anchor-bob"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoginOwners = %v, want %v: current logins of this source only, not the alias alice nor the other source's carol", got, want)
	}

	// Two users with one login (the store allows it; the engine keeps a
	// second one from being made): the oldest wins, whatever the order
	// of the rows.
	older, newer := NewUser("dave"), NewUser("dave")
	older.Anchor, newer.Anchor = "anchor-dave-2", "anchor-dave-1"
	s.create(t, s.Source, older)
	s.create(t, s.Source, newer)
	if got, err := s.Store.LoginOwners(ctx, s.Source, []string{"dave", "bob", "dave"}); err != nil || got["dave"] != "anchor-dave-2" || len(got) != 2 {
		t.Errorf("LoginOwners of a login two users hold = %v, %v; want the older, anchor-dave-2", got, err)
	}
}

// The lookups a sync makes a page find anchors and logins whatever their
// characters (SQLite passes the list as JSON, which must not change them),
// and lists longer than one statement's.
func engineOddLookups(t *testing.T, s EngineStore) {
	ctx := context.Background()
	odd := []string{`quote"d`, `back\slash`, "tab\there", "ctl\x01char", "ünï ✓ 😀", "[1,2]", "<&>"}
	var users []*roster.User
	for i := range 5100 { // past lookupBatch: two statements a lookup
		login := fmt.Sprintf("user%04d", i)
		if i < len(odd) {
			login = odd[i]
		}
		u := NewUser(login)
		u.Anchor = "a:" + login
		users = append(users, u)
	}
	s.create(t, s.Source, users...)
	var anchors, logins []string
	for _, u := range users {
		anchors, logins = append(anchors, u.Anchor), append(logins, u.Login)
	}
	anchors = append(anchors, "a:nobody")
	byAnchor, err := s.Store.UsersByAnchor(ctx, s.Source, anchors)
	if err != nil || len(byAnchor) != len(users) {
		t.Fatalf("UsersByAnchor found %d of %d users, %v", len(byAnchor), len(users), err)
	}
	digests, err := s.Store.UserDigests(ctx, s.Source, anchors)
	if err != nil || len(digests) != len(users) {
		t.Fatalf("UserDigests found %d of %d users, %v", len(digests), len(users), err)
	}
	owners, err := s.Store.LoginOwners(ctx, s.Source, logins)
	if err != nil || len(owners) != len(users) {
		t.Fatalf("LoginOwners found %d of %d logins, %v", len(owners), len(users), err)
	}
	for _, u := range users {
		if got := byAnchor[u.Anchor]; got == nil || got.Login != u.Login {
			t.Errorf("UsersByAnchor[%q] = %+v", u.Anchor, got)
		}
		if got := digests[u.Anchor]; got.ID != u.ID || got.Login != u.Login {
			t.Errorf("UserDigests[%q] = %+v, want ID %d", u.Anchor, got, u.ID)
		}
		if owners[u.Login] != u.Anchor {
			t.Errorf("LoginOwners[%q] = %q, want %q", u.Login, owners[u.Login], u.Anchor)
		}
	}
}

// The first bob is renamed zed; a new bob takes the login, and Apply
// takes it out of zed's aliases.
func engineFreedLogin(t *testing.T, s EngineStore) {
	ctx := context.Background()
	zed := s.create(t, s.Source, NewUser("bob"))[0]
	zed.Login = "zed"
	s.apply(t, s.Source, roster.Change{Kind: roster.Rename, Login: "zed", OldLogin: "bob", DN: zed.DN, User: zed})
	if got, err := s.Store.LoginOwners(ctx, s.Source, []string{"bob"}); err != nil || len(got) != 0 {
		t.Fatalf("LoginOwners(bob) after the rename = %v, %v; want no owner", got, err)
	}
	bob := NewUser("bob")
	bob.Anchor = "anchor-new-bob"
	s.create(t, s.Source, bob)
	if got, err := s.Store.LoginOwners(ctx, s.Source, []string{"bob", "zed"}); err != nil || got["bob"] != "anchor-new-bob" || got["zed"] != zed.Anchor {
		t.Fatalf("LoginOwners = %v, %v; want bob for the new bob and zed for zed", got, err)
	}
	if u := s.user(t, s.Source, zed.Anchor); slices.Contains(u.Aliases, "bob") {
		t.Errorf("zed keeps the alias bob after the new bob took it: %v", u.Aliases)
	}

	// A rename takes a freed login as a create does: ann was alice, and
	// dave becomes alice.
	users := s.create(t, s.Source, NewUser("alice"), NewUser("dave"))
	ann, dave := *users[0], *users[1]
	ann.Login, dave.Login = "ann", "alice"
	s.apply(t, s.Source, roster.Change{Kind: roster.Rename, Login: "ann", OldLogin: "alice", DN: ann.DN, User: &ann})
	s.apply(t, s.Source, roster.Change{Kind: roster.Rename, Login: "alice", OldLogin: "dave", DN: dave.DN, User: &dave})
	if got, err := s.Store.LoginOwners(ctx, s.Source, []string{"alice"}); err != nil || got["alice"] != dave.Anchor {
		t.Fatalf("LoginOwners(alice) = %v, %v; want the renamed dave", got, err)
	}
	if u := s.user(t, s.Source, ann.Anchor); slices.Contains(u.Aliases, "alice") {
		t.Errorf("ann keeps the alias alice after dave was renamed to it: %v", u.Aliases)
	}
}

func engineUsers(t *testing.T, s EngineStore) {
	ctx := context.Background()
	var want []int64
	for _, u := range s.create(t, s.Source, NewUser("c"), NewUser("a")) {
		want = append(want, u.ID)
	}
	s.create(t, s.Other, NewUser("x"))
	for _, u := range s.create(t, s.Source, NewUser("b")) { // IDs of both sources interleave
		want = append(want, u.ID)
	}
	slices.Sort(want)
	// One of them disabled as missing, since a given time: its state
	// says so.
	missing := *s.user(t, s.Source, "anchor-a")
	since := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	missing.Disabled, missing.DisabledReason, missing.MissingSince = true, roster.DisabledMissing, since
	s.apply(t, s.Source, roster.Change{Kind: roster.Disable, Login: missing.Login, User: &missing})
	var got []int64
	err := s.Store.UserStates(ctx, s.Source, func(st roster.UserState) error {
		got = append(got, st.ID)
		if st.ID == missing.ID && (!st.Disabled || st.DisabledReason != roster.DisabledMissing || !st.MissingSince.Equal(since) || st.Anchor != "anchor-a") {
			t.Errorf("the state of the missing user: %+v", st)
		}
		if st.ID != missing.ID && (st.Disabled || st.Anchor == "") {
			t.Errorf("the state of a present user: %+v", st)
		}
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("UserStates visited %v, %v; want %v, each of the source's users once in ID order", got, err, want)
	}
	if n, err := s.Store.CountUsers(ctx, s.Source); n != len(want) || err != nil {
		t.Errorf("CountUsers = %d, %v; want %d, the users UserStates visits", n, err, len(want))
	}
	for _, c := range []struct {
		source int64
		want   bool
	}{{s.Source, true}, {s.Other, true}, {s.Other + s.Source + 1000, false}} {
		if has, err := s.Store.HasUsers(ctx, c.source); has != c.want || err != nil {
			t.Errorf("HasUsers(%d) = %v, %v; want %v", c.source, has, err, c.want)
		}
	}
}

func engineApplyIDs(t *testing.T, s EngineStore) {
	users := s.create(t, s.Source, NewUser("alice"), NewUser("bob"), NewUser("dave"))
	alice, bob, dave := users[0], users[1], users[2]
	if alice.ID == 0 || bob.ID == 0 || alice.ID == bob.ID {
		t.Fatalf("new users got the IDs %d and %d", alice.ID, bob.ID)
	}

	upd, dis := *bob, *alice
	upd.Name = "Robert"
	dis.Disabled, dis.DisabledReason = true, roster.DisabledInDirectory
	carol, erin := NewUser("carol"), NewUser("erin")
	ids := s.apply(t, s.Source,
		roster.Change{Kind: roster.Update, Login: "bob", User: &upd},
		roster.Change{Kind: roster.Create, Login: "carol", User: carol},
		roster.Change{Kind: roster.Disable, Login: "alice", User: &dis},
		roster.Change{Kind: roster.Create, Login: "erin", User: erin},
	)
	if ids[0] != bob.ID || ids[2] != alice.ID {
		t.Errorf("Apply returned %v; want bob's ID %d first and alice's %d third", ids, bob.ID, alice.ID)
	}
	for i, anchor := range map[int]string{1: "anchor-carol", 3: "anchor-erin"} {
		if u := s.user(t, s.Source, anchor); u == nil || u.ID != ids[i] || slices.Contains([]int64{alice.ID, bob.ID, dave.ID}, ids[i]) {
			t.Errorf("Apply returned %d for the create of %s, stored as %+v; want the new user's ID", ids[i], anchor, u)
		}
	}
	if ids[1] == ids[3] {
		t.Errorf("two creates got the same ID %d", ids[1])
	}
	if u := s.user(t, s.Source, "anchor-bob"); u.Name != "Robert" {
		t.Errorf("bob's name is %q after the update", u.Name)
	}
	if u := s.user(t, s.Source, "anchor-alice"); !u.Disabled || u.DisabledReason != roster.DisabledInDirectory {
		t.Errorf("alice after the disable: %+v", u)
	}

	ren, back := *bob, dis
	ren.Login = "robert"
	back.Disabled, back.DisabledReason = false, ""
	ids = s.apply(t, s.Source,
		roster.Change{Kind: roster.Rename, Login: "robert", OldLogin: "bob", User: &ren},
		roster.Change{Kind: roster.Reenable, Login: "alice", User: &back},
		roster.Change{Kind: roster.Delete, Login: "dave", User: &roster.User{ID: dave.ID, Anchor: dave.Anchor}},
	)
	if want := []int64{bob.ID, alice.ID, dave.ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Apply returned %v, want %v", ids, want)
	}
	if u := s.user(t, s.Source, "anchor-bob"); u.Login != "robert" || fmt.Sprint(u.Aliases) != "[bob]" {
		t.Errorf("after the rename bob is %s with the aliases %v, want robert with [bob]", u.Login, u.Aliases)
	}
	if u := s.user(t, s.Source, "anchor-alice"); u.Disabled {
		t.Errorf("alice is still disabled after the re-enable")
	}
	if u := s.user(t, s.Source, "anchor-dave"); u != nil {
		t.Errorf("dave is still stored after the delete: %+v", u)
	}
}

// cloneChanges copies changes and their users deeply, to compare with
// what Apply leaves of them.
func cloneChanges(changes []roster.Change) []roster.Change {
	out := slices.Clone(changes)
	for i, c := range out {
		if c.User != nil {
			u := *c.User
			u.Cards, u.Aliases = slices.Clone(u.Cards), slices.Clone(u.Aliases)
			if u.Extra != nil {
				u.Extra = map[string][]string{}
				for k, v := range c.User.Extra {
					u.Extra[k] = slices.Clone(v)
				}
			}
			out[i].User = &u
		}
		out[i].Fields = slices.Clone(c.Fields)
	}
	return out
}

// engineApplyUnordered creates more users than one insert statement
// takes, their anchors in falling order and their cards' numbers at
// random, each user's in falling order: Apply may write them in another
// order, but each change's ID must be its user's, and each user's cards
// its own, in their order.
func engineApplyUnordered(t *testing.T, s EngineStore) {
	const n = 1100
	rnd := rand.New(rand.NewPCG(7, 11))
	changes := make([]roster.Change, n)
	for i := range changes {
		login := fmt.Sprintf("u%04d", n-i)
		hi := 10_000_000 + rnd.IntN(1000)*n + i // distinct, at random; each user's two falling
		u := NewUser(login, fmt.Sprintf("%09d", hi), fmt.Sprintf("%09d", hi-5_000_000))
		changes[i] = roster.Change{Kind: roster.Create, Login: login, DN: u.DN, User: u}
	}
	ids := s.apply(t, s.Source, changes...)
	seen := map[int64]bool{}
	for i, c := range changes {
		u := s.user(t, s.Source, c.User.Anchor)
		if u == nil || u.ID != ids[i] || u.Login != c.Login {
			t.Fatalf("change %d (%s) got ID %d; the user of its anchor is %+v", i, c.Login, ids[i], u)
		}
		if seen[ids[i]] {
			t.Fatalf("ID %d returned twice", ids[i])
		}
		seen[ids[i]] = true
		if got, want := cardsOf(u), cardsOf(c.User); got != want {
			t.Fatalf("%s has the cards %v, want %v in this order", c.Login, got, want)
		}
	}
}

func engineApplyLeavesChanges(t *testing.T, s EngineStore) {
	alice := s.create(t, s.Source, NewUser("alice", "1001"), NewUser("dave"))[0]
	dave := s.user(t, s.Source, "anchor-dave")
	if err := s.AddManualCard(alice.ID, "9001"); err != nil {
		t.Fatalf("AddManualCard: %v", err)
	}
	ren := *alice
	ren.Login, ren.Cards = "alicia", []roster.Card{{Number: "1002", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory}}
	changes := []roster.Change{
		{Kind: roster.Create, Login: "carol", User: NewUser("carol", "3001")},
		{Kind: roster.Rename, Login: "alicia", OldLogin: "alice", User: &ren, CardsChanged: true,
			Fields: []roster.FieldChange{{Field: "login", Before: "alice", After: "alicia"}}},
		{Kind: roster.Delete, Login: "dave", User: &roster.User{ID: dave.ID, Anchor: dave.Anchor}},
	}
	before := cloneChanges(changes)
	s.apply(t, s.Source, changes...)
	if !reflect.DeepEqual(changes, before) {
		t.Errorf("Apply changed its changes:\n\t%+v\nwant\n\t%+v", changes, before)
	}
	for i := range changes {
		if !reflect.DeepEqual(changes[i].User, before[i].User) {
			t.Errorf("Apply changed the user of change %d:\n\t%+v\nwant\n\t%+v", i, changes[i].User, before[i].User)
		}
	}
}

func engineApplyAllOrNothing(t *testing.T, s EngineStore) {
	ctx := context.Background()
	users := s.create(t, s.Source, NewUser("alice", "1001"), NewUser("bob", "2001"), NewUser("dave"))
	alice, dave := users[0], users[2]
	upd, ren := *alice, *users[1]
	upd.Name = "Changed"
	ren.Login = "robert"
	thief := NewUser("erin", "2001") // bob's card, which stays bob's
	ids, err := s.Store.Apply(ctx, s.Source, []roster.Change{
		{Kind: roster.Update, Login: "alice", User: &upd},
		{Kind: roster.Rename, Login: "robert", OldLogin: "bob", User: &ren},
		{Kind: roster.Create, Login: "carol", User: NewUser("carol", "3001")},
		{Kind: roster.Delete, Login: "dave", User: &roster.User{ID: dave.ID, Anchor: dave.Anchor}},
		{Kind: roster.Create, Login: "erin", User: thief},
	})
	if roster.ErrorCode(err) != roster.ECONFLICT || ids != nil {
		t.Fatalf("Apply with a card another user holds = %v, %v; want ECONFLICT and no IDs", ids, err)
	}
	got, err := s.Store.UsersByAnchor(ctx, s.Source, []string{"anchor-alice", "anchor-bob", "anchor-carol", "anchor-dave", "anchor-erin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["anchor-carol"] != nil || got["anchor-erin"] != nil {
		t.Errorf("after the refused batch the store holds %v; want alice, bob and dave only", got)
	}
	if u := got["anchor-alice"]; u == nil || u.Name != alice.Name {
		t.Errorf("the refused update was written: %+v", u)
	}
	if u := got["anchor-bob"]; u == nil || u.Login != "bob" || len(u.Aliases) != 0 || cardsOf(u) != "[2001/primary/directory]" {
		t.Errorf("the refused rename was written, or bob lost his card: %+v", u)
	}
	if got["anchor-dave"] == nil {
		t.Error("the refused delete was written")
	}
	if owners, err := s.Store.LoginOwners(ctx, s.Source, []string{"carol", "robert", "bob"}); err != nil || fmt.Sprint(owners) != "map[bob:anchor-bob]" {
		t.Errorf("LoginOwners after the refused batch = %v, %v", owners, err)
	}
}

func engineApplyOtherSource(t *testing.T, s EngineStore) {
	ctx := context.Background()
	x := s.create(t, s.Other, NewUser("xavier", "1001"))[0]
	upd := *x
	upd.Name, upd.Disabled, upd.DisabledReason = "Changed", true, roster.DisabledMissing
	for _, c := range []roster.Change{
		{Kind: roster.Disable, Login: "xavier", User: &upd},
		{Kind: roster.Delete, Login: "xavier", User: &roster.User{ID: x.ID, Anchor: x.Anchor}},
	} {
		ids, err := s.Store.Apply(ctx, s.Source, []roster.Change{c})
		if roster.ErrorCode(err) != roster.ENOTFOUND || ids != nil {
			t.Errorf("a %s of another source's user = %v, %v; want ENOTFOUND", c.Kind, ids, err)
		}
	}
	if u := s.user(t, s.Other, x.Anchor); u == nil || u.Name != x.Name || u.Disabled {
		t.Errorf("the other source's user became %+v", u)
	}
}

func engineApplyCards(t *testing.T, s EngineStore) {
	alice := s.create(t, s.Source, NewUser("alice", "1001", "1002"))[0]
	if err := s.AddManualCard(alice.ID, "9001"); err != nil {
		t.Fatalf("AddManualCard: %v", err)
	}
	steps := []struct {
		name    string
		cards   []roster.Card
		changed bool
		want    string
	}{
		{"cards said unchanged are left as stored", []roster.Card{{Number: "3001", Kind: roster.CardPrimary}}, false,
			"[1001/primary/directory 1002/secondary/directory 9001/manual]"},
		{"changed directory cards replace the stored ones, in their order, and the manual card stays",
			[]roster.Card{
				{Number: "3002", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory},
				{Number: "3001", Kind: roster.CardSecondary, Origin: roster.CardFromDirectory},
			}, true, "[3002/primary/directory 3001/secondary/directory 9001/manual]"},
		{"no cards leave the manual card only", nil, true, "[9001/manual]"},
	}
	for _, st := range steps {
		u := *alice
		u.Cards = st.cards
		u.Name = "Alice " + st.name // an update changes something
		s.apply(t, s.Source, roster.Change{Kind: roster.Update, Login: "alice", User: &u, CardsChanged: st.changed})
		if got := cardsOf(s.user(t, s.Source, alice.Anchor)); got != st.want {
			t.Errorf("%s: cards %s, want %s", st.name, got, st.want)
		}
	}
	// A create writes its cards whatever CardsChanged says.
	s.create(t, s.Source, NewUser("bob", "2001"))
	if got := cardsOf(s.user(t, s.Source, "anchor-bob")); got != "[2001/primary/directory]" {
		t.Errorf("a create with CardsChanged unset stored the cards %s", got)
	}
}

func engineApplyPrintCode(t *testing.T, s EngineStore) {
	with := NewUser("alice")
	with.PrintCodeHash = "h:1"
	users := s.create(t, s.Source, with, NewUser("bob"))
	alice, bob := users[0], users[1]
	steps := []struct {
		name     string
		user     *roster.User
		was, set string
		want     string
	}{
		{"a code planned from the stored one is written", alice, "h:1", "h:2", "h:2"},
		{"a code planned from one since replaced is not", alice, "h:1", "h:3", "h:2"},
		{"a code planned from none is not written over one", alice, "", "h:4", "h:2"},
		{"a code planned from none is written to a user without", bob, "", "h:5", "h:5"},
	}
	for _, st := range steps {
		u := *st.user
		u.PrintCodeHash = st.set
		s.apply(t, s.Source, roster.Change{Kind: roster.Update, Login: u.Login, User: &u, PrintCodeWas: st.was})
		if got := s.user(t, s.Source, u.Anchor).PrintCodeHash; got != st.want {
			t.Errorf("%s: the stored code is %q, want %q", st.name, got, st.want)
		}
	}
}

func engineDigests(t *testing.T, s EngineStore) {
	ctx := context.Background()
	digest := func(anchor string) (roster.UserDigest, bool) {
		t.Helper()
		m, err := s.Store.UserDigests(ctx, s.Source, []string{anchor})
		if err != nil {
			t.Fatalf("UserDigests: %v", err)
		}
		d, ok := m[anchor]
		return d, ok
	}
	alice, bob, gone := NewUser("alice"), NewUser("bob"), NewUser("gone")
	alice.PrintCodeHash = "h:1"
	changes := creates(alice, bob, gone)
	changes[0].Fingerprint, changes[1].Fingerprint, changes[2].Fingerprint = 0xfedcba9876543210, 7, 8
	for i, id := range s.apply(t, s.Source, changes...) {
		changes[i].User.ID = id
	}
	s.create(t, s.Other, NewUser("alice")) // the same anchor, in another source

	// Every bit of the 64 comes back, with the login and the state.
	if d, ok := digest(alice.Anchor); !ok || d.ID != alice.ID || d.Login != "alice" || d.Fingerprint != 0xfedcba9876543210 || d.Disabled || d.Missing {
		t.Errorf("alice's digest: %+v, %v", d, ok)
	}
	// An update keeps its fingerprint, all 64 bits of it, with the state
	// it writes.
	missing := *s.user(t, s.Source, bob.Anchor)
	missing.Disabled, missing.DisabledReason, missing.MissingSince = true, roster.DisabledMissing, time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	s.apply(t, s.Source, roster.Change{Kind: roster.Disable, Login: "bob", User: &missing, Fingerprint: 0x8edcba9876543219})
	if d, _ := digest(bob.Anchor); d.Fingerprint != 0x8edcba9876543219 || !d.Disabled || d.DisabledReason != roster.DisabledMissing || !d.Missing {
		t.Errorf("bob's digest after a disable: %+v", d)
	}
	// Disabled in the directory, not missing: the two state bits apart.
	off := *s.user(t, s.Source, gone.Anchor)
	off.Disabled, off.DisabledReason = true, roster.DisabledInDirectory
	s.apply(t, s.Source, roster.Change{Kind: roster.Disable, Login: "gone", User: &off, Fingerprint: 0x7edcba987654321b})
	if d, _ := digest(gone.Anchor); d.Fingerprint != 0x7edcba987654321b || !d.Disabled || d.DisabledReason != roster.DisabledInDirectory || d.Missing {
		t.Errorf("gone's digest after a disable in the directory: %+v", d)
	}
	// An update whose print code gives way to one set meanwhile keeps
	// none: the user is not what the change planned.
	upd := *s.user(t, s.Source, alice.Anchor)
	upd.PrintCodeHash = "h:2"
	s.apply(t, s.Source, roster.Change{Kind: roster.Update, Login: "alice", User: &upd, PrintCodeWas: "h:0", Fingerprint: 11})
	if d, _ := digest(alice.Anchor); d.Fingerprint != 0 {
		t.Errorf("alice kept the fingerprint %d of an update whose code was not written", d.Fingerprint)
	}
	// A deleted user has no digest.
	s.apply(t, s.Source, roster.Change{Kind: roster.Delete, Login: "gone", User: gone})
	if d, ok := digest(gone.Anchor); ok {
		t.Errorf("a deleted user has the digest %+v", d)
	}

	// SaveFingerprints keeps a fingerprint for a user whose fingerprint
	// is still the one read, and for no one else.
	read := s.user(t, s.Source, alice.Anchor)
	if err := s.Store.SaveFingerprints(ctx, s.Source, []roster.UserFingerprint{{ID: read.ID, Fingerprint: 13, Was: 0}}); err != nil {
		t.Fatalf("SaveFingerprints: %v", err)
	}
	if d, _ := digest(alice.Anchor); d.Fingerprint != 13 {
		t.Errorf("alice's fingerprint is %d after SaveFingerprints, want 13", d.Fingerprint)
	}
	other := s.user(t, s.Other, alice.Anchor)
	err := s.Store.SaveFingerprints(ctx, s.Source, []roster.UserFingerprint{
		{ID: read.ID, Fingerprint: 15, Was: 0},  // not the one alice has now
		{ID: other.ID, Fingerprint: 17, Was: 0}, // another source's
	})
	if err != nil {
		t.Fatalf("SaveFingerprints: %v", err)
	}
	if d, _ := digest(alice.Anchor); d.Fingerprint != 13 {
		t.Errorf("alice's fingerprint is %d, want 13: SaveFingerprints wrote over a user written since it was read", d.Fingerprint)
	}
	if m, err := s.Store.UserDigests(ctx, s.Other, []string{alice.Anchor}); err != nil || m[alice.Anchor].Fingerprint != 0 {
		t.Errorf("SaveFingerprints for source %d wrote into source %d: %+v, %v", s.Source, s.Other, m, err)
	}
	// A card added by hand makes the next sync compare the user whole:
	// its fingerprint is even, matching no entry.
	if err := s.AddManualCard(read.ID, "MANUAL-9"); err != nil {
		t.Fatalf("AddManualCard: %v", err)
	}
	if d, _ := digest(alice.Anchor); d.Fingerprint == 13 || d.Fingerprint&1 != 0 {
		t.Errorf("alice has the fingerprint %d after a card was added by hand; want an even one", d.Fingerprint)
	}
}

// groupPlan describes a plan in one line.
func groupPlan(p roster.GroupPlan) string {
	return fmt.Sprintf("stored %d/%d groups +%d ~%d -%d members +%d -%d removed %v shrunk %v", p.Groups, p.Members,
		p.AddGroups, p.UpdateGroups, p.RemoveGroups, p.AddMembers, p.RemoveMembers, p.Removed, p.Shrunk)
}

// storedGroups describes the source's stored groups as the interface
// shows them: the plan of an empty read removes every one of them.
func storedGroups(t *testing.T, s EngineStore, source int64) string {
	t.Helper()
	p, err := s.Store.PlanGroups(context.Background(), source, nil)
	if err != nil {
		t.Fatalf("PlanGroups: %v", err)
	}
	return fmt.Sprintf("%d groups %v, %d members", p.Groups, p.Removed, p.Members)
}

// A sync without Remove adds and updates and never deletes; with Remove
// it makes the stored groups equal to the read. PlanGroups says
// beforehand what a sync with Remove would change, and writes nothing.
func enginePlanGroups(t *testing.T, s EngineStore) {
	ctx := context.Background()
	printers := roster.GroupRecord{Anchor: "g-1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{"CN=a", "CN=b"}}
	admins := roster.GroupRecord{Anchor: "g-2", DN: "CN=Admins", Name: "Admins", MemberDNs: []string{"CN=a"}}
	scan := roster.GroupRecord{Anchor: "g-3", DN: "CN=Scan", Name: "Scan", MemberDNs: []string{"CN=c"}}
	renamed := roster.GroupRecord{Anchor: "g-1", DN: "CN=Print", Name: "Print", MemberDNs: []string{"CN=b", "CN=d"}}

	steps := []struct {
		name   string
		groups []roster.GroupRecord
		remove bool
		plan   string
		stored string
	}{
		{"a first sync adds every group and member", []roster.GroupRecord{printers, admins}, false,
			"stored 0/0 groups +2 ~0 -0 members +3 -0 removed [] shrunk []",
			"2 groups [Admins Printers], 3 members"},
		{"without Remove a group gone and a member gone stay", []roster.GroupRecord{renamed, scan}, false,
			"stored 2/3 groups +1 ~1 -1 members +2 -2 removed [Admins] shrunk [Print]",
			"3 groups [Admins Print Scan], 5 members"},
		{"without Remove an empty read deletes nothing", nil, false,
			"stored 3/5 groups +0 ~0 -3 members +0 -5 removed [Admins Print Scan] shrunk []",
			"3 groups [Admins Print Scan], 5 members"},
		{"with Remove the stored groups become the read", []roster.GroupRecord{renamed, scan}, true,
			"stored 3/5 groups +0 ~0 -1 members +0 -2 removed [Admins] shrunk [Print]",
			"2 groups [Print Scan], 3 members"},
		{"with Remove an empty read deletes every group", nil, true,
			"stored 2/3 groups +0 ~0 -2 members +0 -3 removed [Print Scan] shrunk []",
			"0 groups [], 0 members"},
	}
	for _, st := range steps {
		plan, err := s.Store.PlanGroups(ctx, s.Source, st.groups)
		if err != nil {
			t.Fatalf("%s: PlanGroups: %v", st.name, err)
		}
		if got := groupPlan(plan); got != st.plan {
			t.Errorf("%s: plan\n\t%s\nwant\n\t%s", st.name, got, st.plan)
		}
		again, _ := s.Store.PlanGroups(ctx, s.Source, st.groups)
		if groupPlan(again) != groupPlan(plan) {
			t.Errorf("%s: PlanGroups wrote something: the same plan again is %s", st.name, groupPlan(again))
		}
		if err := s.Store.SyncGroups(ctx, s.Source, st.groups, roster.GroupSync{Remove: st.remove}); err != nil {
			t.Fatalf("%s: SyncGroups: %v", st.name, err)
		}
		if got := storedGroups(t, s, s.Source); got != st.stored {
			t.Errorf("%s: stored %s, want %s", st.name, got, st.stored)
		}
	}

	// Members are compared as SyncGroups compares them: once a read is
	// written with Remove, its plan changes nothing, whatever the case
	// of its DNs.
	read := []roster.GroupRecord{
		{Anchor: "g-1", DN: "CN=Printers,DC=corp", Name: "Printers", MemberDNs: []string{"CN=Alice,OU=Staff,DC=corp", "cn=bob,ou=staff,dc=corp"}},
		{Anchor: "g-2", DN: "CN=Admins,DC=corp", Name: "Admins", MemberDNs: []string{"CN=ALICE,OU=STAFF,DC=CORP"}},
	}
	if err := s.Store.SyncGroups(ctx, s.Source, read, roster.GroupSync{Remove: true}); err != nil {
		t.Fatal(err)
	}
	plan, err := s.Store.PlanGroups(ctx, s.Source, read)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := groupPlan(plan), "stored 2/3 groups +0 ~0 -0 members +0 -0 removed [] shrunk []"; got != want {
		t.Errorf("the plan of the read just written: %s, want %s", got, want)
	}
}

func engineSyncGroupsRefused(t *testing.T, s EngineStore) {
	ctx := context.Background()
	printers := roster.GroupRecord{Anchor: "g-1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{"CN=a"}}
	scan := roster.GroupRecord{Anchor: "g-3", DN: "CN=Scan", Name: "Scan", MemberDNs: []string{"CN=c"}}
	cursor := roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "7", Scope: "s"}
	if err := s.Store.SyncGroups(ctx, s.Source, []roster.GroupRecord{printers}, roster.GroupSync{Cursor: cursor}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Store.Cursor(ctx, s.Source); err != nil || c != cursor {
		t.Fatalf("the cursor after SyncGroups = %+v, %v; want %+v", c, err, cursor)
	}
	if got := storedGroups(t, s, s.Source); got != "1 groups [Printers], 1 members" {
		t.Fatalf("stored %s after the first sync", got)
	}
	// A zero cursor leaves the saved one.
	if err := s.Store.SyncGroups(ctx, s.Source, []roster.GroupRecord{printers}, roster.GroupSync{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Store.Cursor(ctx, s.Source); c != cursor {
		t.Fatalf("a sync without a cursor moved it to %+v", c)
	}

	twice := []roster.GroupRecord{scan, scan}
	_, err := s.Store.PlanGroups(ctx, s.Source, twice)
	wantCode(t, err, roster.EINVALID)
	next := roster.Cursor{Kind: roster.CursorUSN, Server: "dc1", Value: "8", Scope: "s"}
	for _, remove := range []bool{false, true} {
		err := s.Store.SyncGroups(ctx, s.Source, twice, roster.GroupSync{Remove: remove, Cursor: next})
		wantCode(t, err, roster.EINVALID)
		if got := storedGroups(t, s, s.Source); got != "1 groups [Printers], 1 members" {
			t.Errorf("a refused sync (Remove %v) wrote groups: %s", remove, got)
		}
		if c, _ := s.Store.Cursor(ctx, s.Source); c != cursor {
			t.Errorf("a refused sync (Remove %v) moved the cursor to %+v", remove, c)
		}
	}
}

func engineGroupsPerSource(t *testing.T, s EngineStore) {
	ctx := context.Background()
	printers := roster.GroupRecord{Anchor: "g-1", DN: "CN=Printers", Name: "Printers", MemberDNs: []string{"CN=a", "CN=b"}}
	lab := roster.GroupRecord{Anchor: "g-9", DN: "CN=Lab", Name: "Lab", MemberDNs: []string{"CN=x"}}
	if err := s.Store.SyncGroups(ctx, s.Source, []roster.GroupRecord{printers}, roster.GroupSync{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.SyncGroups(ctx, s.Other, []roster.GroupRecord{lab, printers}, roster.GroupSync{}); err != nil {
		t.Fatal(err)
	}
	if got := storedGroups(t, s, s.Source); got != "1 groups [Printers], 2 members" {
		t.Errorf("the source's groups: %s; want its own Printers only", got)
	}
	if err := s.Store.SyncGroups(ctx, s.Source, nil, roster.GroupSync{Remove: true}); err != nil {
		t.Fatal(err)
	}
	if got := storedGroups(t, s, s.Other); got != "2 groups [Lab Printers], 3 members" {
		t.Errorf("the other source's groups after the source removed all of its own: %s", got)
	}
}

func engineStartRun(t *testing.T, s EngineStore) {
	ctx := context.Background()
	seen := map[int64]bool{}
	for _, source := range []int64{s.Source, s.Other, s.Source} {
		run := &roster.Run{SourceID: source, Mode: roster.RunFull}
		if err := s.Store.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if run.ID == 0 || seen[run.ID] {
			t.Fatalf("StartRun gave the ID %d, after %v", run.ID, seen)
		}
		seen[run.ID] = true
	}
}

// holdOf describes a hold in one line; no held users read as [].
func holdOf(h roster.Hold) string {
	return fmt.Sprintf("run %d users %v groups %d memberships %d", h.RunID, append([]int64{}, h.Users...), h.Groups, h.Memberships)
}

func engineHeldRemovals(t *testing.T, s EngineStore) {
	ctx := context.Background()
	users := s.create(t, s.Source, NewUser("a"), NewUser("b"), NewUser("c"))
	ids := []int64{users[2].ID, users[0].ID, users[1].ID} // not in ID order
	sorted := slices.Sorted(slices.Values(ids))
	// finish stores a run of source in mode that ends with status.
	finish := func(source int64, mode roster.RunMode, status roster.RunStatus, held []int64, groups, members int) int64 {
		t.Helper()
		run := &roster.Run{SourceID: source, Mode: mode}
		if err := s.Store.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		run.Status, run.Held, run.HeldUsers = status, len(held), slices.Clone(held)
		run.HeldGroups, run.HeldMemberships = groups, members
		if err := s.Store.FinishRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		return run.ID
	}
	hold := func(source int64) string {
		t.Helper()
		h, err := s.Store.HeldRemovals(ctx, source)
		if err != nil {
			t.Fatal(err)
		}
		return holdOf(h)
	}
	none := holdOf(roster.Hold{})

	if got := hold(s.Source); got != none {
		t.Errorf("a source without runs holds %s", got)
	}
	finish(s.Source, roster.RunFull, roster.RunSucceeded, nil, 0, 0)
	if got := hold(s.Source); got != none {
		t.Errorf("a source without a held run holds %s", got)
	}
	first := finish(s.Source, roster.RunFull, roster.RunHeld, ids, 2, 30)
	want := holdOf(roster.Hold{RunID: first, Users: sorted, Groups: 2, Memberships: 30})
	if got := hold(s.Source); got != want {
		t.Errorf("after a held run: %s, want %s (its users in ID order)", got, want)
	}
	if got := hold(s.Other); got != none {
		t.Errorf("another source holds %s", got)
	}
	for _, r := range []struct {
		source int64
		mode   roster.RunMode
		status roster.RunStatus
	}{
		{s.Source, roster.RunIncremental, roster.RunSucceeded},
		{s.Source, roster.RunPreview, roster.RunSucceeded},
		{s.Source, roster.RunFull, roster.RunFailed},
		{s.Other, roster.RunFull, roster.RunSucceeded},
	} {
		finish(r.source, r.mode, r.status, nil, 0, 0)
		if got := hold(s.Source); got != want {
			t.Errorf("after a %s %s run of source %d the hold is %s, want it kept: %s", r.status, r.mode, r.source, got, want)
		}
	}
	latest := finish(s.Source, roster.RunFull, roster.RunHeld, ids[:1], 0, 0)
	if got, want := hold(s.Source), holdOf(roster.Hold{RunID: latest, Users: ids[:1]}); got != want {
		t.Errorf("after a second held run: %s, want the latest one's %s", got, want)
	}
	finish(s.Source, roster.RunFull, roster.RunSucceeded, nil, 0, 0)
	if got := hold(s.Source); got != none {
		t.Errorf("a successful full run after the hold left %s", got)
	}
}

func engineHoldNeedsFinishRun(t *testing.T, s EngineStore) {
	ctx := context.Background()
	run := &roster.Run{SourceID: s.Source, Mode: roster.RunFull}
	if err := s.Store.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	// The caller's run changes as the run goes on; the store has it as
	// started until FinishRun.
	run.Status, run.Held, run.HeldUsers, run.HeldGroups = roster.RunHeld, 1, []int64{7}, 1
	if h, err := s.Store.HeldRemovals(ctx, s.Source); err != nil || holdOf(h) != holdOf(roster.Hold{}) {
		t.Errorf("a run not finished holds %s, %v", holdOf(h), err)
	}
	if err := s.Store.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Store.HeldRemovals(ctx, s.Source); err != nil || h.RunID != run.ID {
		t.Errorf("after FinishRun the hold is %s, %v; want run %d", holdOf(h), err, run.ID)
	}
}

func engineCursor(t *testing.T, s EngineStore) {
	ctx := context.Background()
	if c, err := s.Store.Cursor(ctx, s.Source); err != nil || !c.IsZero() {
		t.Fatalf("a source with no saved cursor has %+v, %v; want the zero cursor", c, err)
	}
	want := roster.Cursor{Kind: roster.CursorUSN, Server: "CN=NTDS Settings,CN=DC1|inv", Value: "4711", Scope: "abc"}
	lab := roster.Cursor{Kind: roster.CursorCSN, Server: "ldap1", Value: "20261125210426.123456Z#000000#000#000000"}
	for _, c := range []struct {
		source int64
		cursor roster.Cursor
	}{{s.Source, want}, {s.Other, lab}} {
		if err := s.Store.SaveCursor(ctx, c.source, c.cursor); err != nil {
			t.Fatal(err)
		}
	}
	want.Value = "4800"
	if err := s.Store.SaveCursor(ctx, s.Source, want); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Store.Cursor(ctx, s.Source); err != nil || c != want {
		t.Errorf("Cursor = %+v, %v; want the one saved last, %+v", c, err, want)
	}
	if c, err := s.Store.Cursor(ctx, s.Other); err != nil || c != lab {
		t.Errorf("the other source's cursor = %+v, %v; want its own, %+v", c, err, lab)
	}
	if err := s.Store.SaveCursor(ctx, s.Source, roster.Cursor{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Store.Cursor(ctx, s.Source); !c.IsZero() {
		t.Errorf("a zero cursor saved left %+v", c)
	}
	if c, _ := s.Store.Cursor(ctx, s.Other); c != lab {
		t.Errorf("clearing the source's cursor changed the other's to %+v", c)
	}
}
