// Package storetest is the conformance suite of roster's stores: one set
// of tests that every store (SQLite, PostgreSQL) must pass, so that they
// behave alike. A store's package runs it from its own tests:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, openForTest) }
package storetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Opener returns a new, empty store with its schema in place, and a plain
// connection to the same database for looking at what the store wrote
// (queries on it take no arguments, so they are the same in every
// dialect). Both are closed when the test ends.
type Opener func(t testing.TB) (*sqlstore.DB, *sql.DB)

// Run runs every conformance test against stores that o opens.
func Run(t *testing.T, o Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"SourceID", testSourceID},
		{"LookupSourceID", testLookupSourceID},
		{"ApplyCreate", testApplyCreate},
		{"ApplyChanges", testApplyChanges},
		{"ApplyCards", testApplyCards},
		{"ApplyRefuses", testApplyRefuses},
		{"ApplyReturnsIDs", testApplyReturnsIDs},
		{"ApplyStopsWhenCancelled", testApplyStopsWhenCancelled},
		{"ApplyOfCreatesCancelledAnywhere", testApplyOfCreatesCancelledAnywhere},
		{"UsersByAnchor", testUsersByAnchor},
		{"LoginOwners", testLoginOwners},
		{"Users", testUsers},
		{"FindUsers", testFindUsers},
		{"UserByLogin", testUserByLogin},
		{"UserToSignIn", testUserToSignIn},
		{"UserByID", testUserByID},
		{"AddCard", testAddCard},
		{"UserGroups", testUserGroups},
		{"MembersMatchAsDNs", testMembersMatchAsDNs},
		{"RekeyDNs", testRekeyDNs},
		{"LoginLookups", testLoginLookups},
		{"SyncGroupsRemovesOnlyWhenAsked", testSyncGroupsRemovesOnlyWhenAsked},
		{"RunRoundTrip", testRunRoundTrip},
		{"Runs", testRuns},
		{"LatestRun", testLatestRun},
		{"RunCounts", testRunCounts},
		{"HeldRemovals", testHeldRemovals},
		{"CursorsAreKeptPerSource", testCursorsAreKeptPerSource},
		{"SourcesKeepTheirPasswordSealed", testSourcesKeepTheirPasswordSealed},
		{"Leases", testLeases},
		{"LeaseRace", testLeaseRace},
		{"TakeOverLease", testTakeOverLease},
		{"TakeOverRace", testTakeOverRace},
		{"LastRunStart", testLastRunStart},
		{"Auth", testAuth},
		{"DeleteSession", testDeleteSession},
		{"Ping", testPing},
		{"Identify", testIdentify},
		{"RemoveCard", testRemoveCard},
		{"hand writes clear the fingerprint", testHandWritesClearTheFingerprint},
		{"ApplyKeepsAPrintCodeSetMeanwhile", testApplyKeepsAPrintCodeSetMeanwhile},
		{"SetFirstPrintCodeHashes", testSetFirstPrintCodeHashes},
		{"AssignFirstPrintCodes", testAssignFirstPrintCodes},
		{"Lockouts", testLockouts},
		{"LockoutRace", testLockoutRace},
		{"Rebind", testRebind},
		{"Deferred", testDeferred},
		{"DeferredUnique", testDeferredUnique},
		{"TwinAnchors", testTwinAnchors},
		{"Copy", func(t *testing.T, o Opener) { RunCopy(t, o, o) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, o) })
	}
}

// t0 is the fixed clock of every test database.
var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// open returns a new store on the clock t0, its plain connection, and the
// source "corp" in it.
func open(t testing.TB, o Opener) (db *sqlstore.DB, r *sql.DB, source int64) {
	t.Helper()
	db, r = o(t)
	db.Now = func() time.Time { return t0 }
	source, err := db.SourceID(context.Background(), "corp")
	if err != nil {
		t.Fatalf("SourceID: %v", err)
	}
	return db, r, source
}

func count(t testing.TB, r *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := r.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// NewUser returns a directory user as the engine would create it.
func NewUser(login string, cards ...string) *roster.User {
	u := &roster.User{
		Anchor: "anchor-" + login,
		DN:     "CN=" + login + ",OU=Staff,DC=corp,DC=test",
		Login:  login,
		Name:   "User " + login,
		Email:  login + "@corp.test",
	}
	for i, c := range cards {
		kind := roster.CardSecondary
		if i == 0 {
			kind = roster.CardPrimary
		}
		u.Cards = append(u.Cards, roster.Card{Number: c, Kind: kind, Origin: roster.CardFromDirectory})
	}
	return u
}

// Create stores users through Apply and returns them with their IDs,
// source and times. Apply returns the IDs only; the rest is read back,
// and a stored user whose ID is not the one Apply returned fails the
// test.
func Create(t testing.TB, db *sqlstore.DB, source int64, users ...*roster.User) []*roster.User {
	t.Helper()
	var changes []roster.Change
	anchors := make([]string, len(users))
	for i, u := range users {
		changes = append(changes, roster.Change{Kind: roster.Create, Login: u.Login, DN: u.DN, User: u})
		anchors[i] = u.Anchor
	}
	ids, err := db.Apply(context.Background(), source, changes)
	if err != nil {
		t.Fatalf("Apply create: %v", err)
	}
	if len(ids) != len(users) {
		t.Fatalf("Apply created %d users and returned %d IDs", len(users), len(ids))
	}
	stored, err := db.UsersByAnchor(context.Background(), source, anchors)
	if err != nil {
		t.Fatalf("UsersByAnchor: %v", err)
	}
	for i, u := range users {
		got := stored[u.Anchor]
		if got == nil || got.ID != ids[i] {
			t.Fatalf("Apply returned ID %d for %s, stored as %+v", ids[i], u.Login, got)
		}
		u.ID, u.SourceID, u.CreatedAt, u.UpdatedAt = ids[i], got.SourceID, got.CreatedAt, got.UpdatedAt
	}
	return users
}

// MustApply applies changes, failing the test on an error, and returns
// the IDs Apply returned: one per change, the new ones for creates.
func MustApply(t testing.TB, db *sqlstore.DB, source int64, changes ...roster.Change) []int64 {
	t.Helper()
	ids, err := db.Apply(context.Background(), source, changes)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return ids
}

// Stored reads back the user with this anchor.
func Stored(t testing.TB, db *sqlstore.DB, source int64, anchor string) *roster.User {
	t.Helper()
	m, err := db.UsersByAnchor(context.Background(), source, []string{anchor})
	if err != nil {
		t.Fatalf("UsersByAnchor: %v", err)
	}
	return m[anchor]
}

// numbers lists the card numbers of u with their origin, in order.
func numbers(u *roster.User) []string {
	var out []string
	for _, c := range u.Cards {
		out = append(out, c.Number+"/"+string(c.Origin))
	}
	return out
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := roster.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}
