package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// badDir is a memDir that also reports entries it could not map, before
// its records, as the LDAP reader does with an entry without a login.
type badDir struct {
	*memDir
	bad []roster.EntryError
}

func (d badDir) Users(ctx context.Context, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	for _, ee := range d.bad {
		if err := bad(ee); err != nil {
			return err
		}
	}
	return d.memDir.Users(ctx, page, bad)
}

func (s *memStore) byAnchor(a string) *roster.User {
	for _, u := range s.users {
		if u.Anchor == a {
			return u
		}
	}
	return nil
}

func errorsOf(r *roster.Run) string {
	var out []string
	for _, ee := range r.EntryErrors {
		out = append(out, ee.DN+": "+ee.Message)
	}
	return strings.Join(out, "\n")
}

// recreate deletes the entry at i and makes it again with the same login
// and a new anchor, last in directory order.
func recreate(d *memDir, i int) {
	rec := d.recs[i]
	d.recs = append(d.recs[:i:i], d.recs[i+1:]...)
	rec.Anchor = "anchor-new"
	rec.Cards = []string{"NEW-CARD"}
	d.recs = append(d.recs, rec)
}

// An account deleted and made again with its login takes the login in
// one full run; the old user, gone from the directory, keeps it as a
// former login, and the note says so.
func TestARecreatedEntryTakesItsLogin(t *testing.T) {
	f := newFixture(5)
	f.mustRun(t, Options{})
	old := f.store.byLogin("user1")
	recreate(f.dir, 1)

	// The plan first: it shows the hand-over and writes nothing.
	res, kinds := f.plan(t)
	if got := strings.Join(kinds, ", "); got != "disable user1, rename user1~anchor-001, create user1" || res.Run.Failed != 0 {
		t.Fatalf("dry run plans %q, errors %s", got, errorsOf(res.Run))
	}
	if f.store.byLogin("user1").ID != old.ID {
		t.Fatal("the dry run wrote")
	}

	r := f.mustRun(t, Options{})
	if got, want := counts(r), "seen 5 created 1 updated 0 renamed 1 disabled 1 reenabled 0 deleted 0 skipped 0 failed 0 held 0"; got != want {
		t.Fatalf("%s, want %s; errors:\n%s", got, want, errorsOf(r))
	}
	if u := f.store.byLogin("user1"); u == nil || u.Anchor != "anchor-new" || u.Disabled || !hasCard(u, "NEW-CARD") {
		t.Fatalf("user1 is now %+v; want the new entry's user", u)
	}
	gone := f.store.byAnchor(old.Anchor)
	if gone.ID != old.ID || gone.Login != "user1~anchor-001" || !slices.Contains(gone.Aliases, "user1") ||
		!gone.Disabled || gone.DisabledReason != roster.DisabledMissing {
		t.Fatalf("the old user is %+v; want it disabled as missing, with user1 as a former login", gone)
	}
	if n := strings.Join(r.Notes, "\n"); !strings.Contains(n, "1 logins went from users the directory no longer has") || !strings.Contains(n, "(user1)") {
		t.Errorf("the notes do not tell the hand-over: %q", r.Notes)
	}
	if r := f.mustRun(t, Options{}); r.Created+r.Renamed+r.Updated+r.Disabled+r.Failed != 0 {
		t.Fatalf("the next run still changes something: %s\n%s", counts(r), errorsOf(r))
	}
}

// A user deleted as missing already leaves the login free; one disabled
// as missing by an earlier run gives it up then.
func TestALoginOfAUserDisabledEarlierGoesToTheNewEntry(t *testing.T) {
	f := newFixture(5)
	f.mustRun(t, Options{})
	f.dir.recs = append(f.dir.recs[:1:1], f.dir.recs[2:]...)
	f.mustRun(t, Options{}) // user1 disabled as missing
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "anchor-new", DN: "CN=U1 again,DC=corp,DC=test", Login: "user1"})
	r := f.mustRun(t, Options{})
	if r.Created != 1 || r.Renamed != 1 || r.Disabled != 0 || r.Failed != 0 || f.store.byLogin("user1").Anchor != "anchor-new" {
		t.Fatalf("%s\n%s", counts(r), errorsOf(r))
	}
}

// Another entry the directory still returns keeps its login, wherever it
// comes in directory order, and both entries are reported.
func TestALiveHolderKeepsItsLogin(t *testing.T) {
	for _, first := range []bool{true, false} {
		f := newFixture(4)
		f.mustRun(t, Options{})
		twin := roster.Record{Anchor: "anchor-twin", DN: "CN=Twin,DC=corp,DC=test", Login: "user2"}
		if first {
			f.dir.recs = append([]roster.Record{twin}, f.dir.recs...)
		} else {
			f.dir.recs = append(f.dir.recs, twin)
		}
		r := f.mustRun(t, Options{})
		if r.Created != 0 || r.Renamed != 0 || r.Failed == 0 || !strings.Contains(errorsOf(r), "also the login of another entry") {
			t.Fatalf("twin first %v: %s\n%s", first, counts(r), errorsOf(r))
		}
		if u := f.store.byLogin("user2"); u.Anchor != "anchor-002" || u.Disabled {
			t.Fatalf("twin first %v: user2 is %+v", first, u)
		}
	}
}

// A holder the directory returns outside the group scope is a live entry:
// it keeps its login, though the scope removes its user.
func TestAHolderOutsideTheScopeKeepsItsLogin(t *testing.T) {
	f := newFixture(4)
	scope := roster.GroupRecord{Anchor: "g", DN: "CN=Printing,DC=corp,DC=test"}
	for _, rec := range f.dir.recs {
		scope.MemberDNs = append(scope.MemberDNs, rec.DN)
	}
	f.dir.groups = []roster.GroupRecord{scope}
	f.src.GroupScope = []string{scope.DN}
	f.mustRun(t, Options{})
	f.dir.groups[0].MemberDNs = slices.Delete(slices.Clone(scope.MemberDNs), 1, 2) // user1 leaves the scope
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "anchor-new", DN: "CN=New,DC=corp,DC=test", Login: "user1"})
	f.dir.groups[0].MemberDNs = append(f.dir.groups[0].MemberDNs, "CN=New,DC=corp,DC=test")
	r := f.mustRun(t, Options{})
	if r.Created != 0 || r.Disabled != 1 || !strings.Contains(errorsOf(r), "whose entry the directory still returns") {
		t.Fatalf("%s\n%s", counts(r), errorsOf(r))
	}
	if u := f.store.byAnchor("anchor-001"); u.Login != "user1" {
		t.Fatalf("the out-of-scope user gave its login up: %+v", u)
	}
}

func TestAHolderAnAdminDisabledKeepsItsLogin(t *testing.T) {
	f := newFixture(4)
	f.mustRun(t, Options{})
	u := f.store.byLogin("user1")
	u.Disabled, u.DisabledReason = true, roster.DisabledByAdmin
	recreate(f.dir, 1)
	r := f.mustRun(t, Options{})
	if r.Created != 0 || r.Renamed != 0 || !strings.Contains(errorsOf(r), "whom an admin disabled") {
		t.Fatalf("%s\n%s", counts(r), errorsOf(r))
	}
	if u := f.store.byLogin("user1"); u.Anchor != "anchor-001" || u.DisabledReason != roster.DisabledByAdmin {
		t.Fatalf("user1 is %+v", u)
	}
}

// Held removals hold the hand-over too: a base DN pointed at another
// domain with the same logins must not move every login.
func TestAHeldRemovalHoldsTheLogin(t *testing.T) {
	f := newFixture(100)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[:80]
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "anchor-new", DN: "CN=New,DC=corp,DC=test", Login: "user90"})
	res, err := f.run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Run; r.Status != roster.RunHeld || r.Created != 0 || r.Renamed != 0 || !strings.Contains(errorsOf(r), "held for approval") {
		t.Fatalf("status %s, %s\n%s", r.Status, counts(r), errorsOf(r))
	}
	if u := f.store.byLogin("user90"); u.Anchor != "anchor-090" || u.Disabled {
		t.Fatalf("user90 is %+v", u)
	}
	r := f.mustRun(t, Options{ApproveRemovals: true})
	if r.Created != 1 || r.Renamed != 1 || f.store.byLogin("user90").Anchor != "anchor-new" {
		t.Fatalf("approved: %s\n%s", counts(r), errorsOf(r))
	}
}

// An incremental run proves no absence: it gives a login up only for a
// user already disabled as missing, or one the directory reports deleted.
func TestIncrementalRunsGiveUpLoginsOnlyOfUsersKnownGone(t *testing.T) {
	f, d := newFixture(0), newUSNDir(5)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	// user1 re-created; the deletion is not visible (an ordinary account
	// on AD): the old user is merely not returned.
	d.recs = append(d.recs[:1:1], d.recs[2:]...)
	d.recs = append(d.recs, roster.Record{Anchor: "anchor-new", DN: "CN=New,DC=corp,DC=test", Login: "user1"})
	d.touch("anchor-new")
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil || r.Mode != roster.RunIncremental {
		t.Fatalf("%v, mode %s", err, r.Mode)
	}
	if r.Created != 0 || r.Renamed != 0 || !strings.Contains(errorsOf(r), "did not remove either") {
		t.Fatalf("incremental, old user not known gone: %s\n%s", counts(r), errorsOf(r))
	}
	if u := f.store.byLogin("user1"); u.Anchor != "anchor-001" || u.Disabled {
		t.Fatalf("user1 is %+v", u)
	}

	// The deletion shows now: the incremental run disables the old user
	// and hands the login over.
	d.deleted = map[string]int64{"anchor-001": d.top + 1}
	d.top++
	d.touch("anchor-new")
	r, err = f.runOn(t, d, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Created != 1 || r.Renamed != 1 || r.Disabled != 1 || f.store.byLogin("user1").Anchor != "anchor-new" {
		t.Fatalf("incremental, deletion reported: %s\n%s", counts(r), errorsOf(r))
	}
}

// A user disabled as missing may still have its entry (outside the
// group scope, say): an incremental run, which proves no absence, leaves
// its login to the next full sync unless the directory reports it deleted.
func TestAnIncrementalRunDoesNotTakeTheLoginOfAUserOnlyDisabledAsMissing(t *testing.T) {
	f, d := newFixture(0), newUSNDir(5)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	d.recs = append(d.recs[:1:1], d.recs[2:]...) // user1 gone from the reads
	if _, err := f.runOn(t, d, Options{}); err != nil || !f.store.byLogin("user1").Disabled {
		t.Fatalf("the full run did not disable user1: %v", err)
	}
	d.recs = append(d.recs, roster.Record{Anchor: "anchor-new", DN: "CN=New,DC=corp,DC=test", Login: "user1"})
	d.touch("anchor-new")
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil || r.Mode != roster.RunIncremental {
		t.Fatalf("%v, mode %s", err, r.Mode)
	}
	if r.Created != 0 || r.Renamed != 0 || f.store.byLogin("user1").Anchor != "anchor-001" {
		t.Fatalf("an incremental run took the login of a user only disabled as missing: %s\n%s", counts(r), errorsOf(r))
	}
	r, err = f.runOn(t, d, Options{})
	if err != nil || r.Created != 1 || r.Renamed != 1 || f.store.byLogin("user1").Anchor != "anchor-new" {
		t.Fatalf("the next full run did not hand the login over: %v, %s\n%s", err, counts(r), errorsOf(r))
	}
}

func TestLoginsAreNormalised(t *testing.T) {
	f := newFixture(3)
	f.dir.recs[0].Login = "  user0\t"
	f.dir.recs[1].Login = "jos\u00e9"  // composed
	f.dir.recs[2].Login = "jose\u0301" // the same name, decomposed
	r := f.mustRun(t, Options{})
	if r.Created != 2 || r.Failed != 1 || !strings.Contains(errorsOf(r), "the login jos\u00e9 is also the login of another entry") {
		t.Fatalf("%s\n%s", counts(r), errorsOf(r))
	}
	if f.store.byLogin("user0") == nil || f.store.byLogin("jos\u00e9") == nil {
		t.Fatal("the logins were not stored trimmed and composed")
	}

	// Spaces only: a bad entry, and its user stays.
	f.dir.recs[0].Login = "   "
	r = f.mustRun(t, Options{})
	if r.Disabled != 0 || !strings.Contains(errorsOf(r), "empty or white space only") {
		t.Fatalf("%s\n%s", counts(r), errorsOf(r))
	}
	if u := f.store.byLogin("user0"); u == nil || u.Disabled {
		t.Fatalf("user0 is %+v", u)
	}
}

// A login stored before logins were normalised is renamed to its
// normal form, without keeping the old form as a former login.
func TestAnUnnormalisedStoredLoginIsRenamedWithoutAlias(t *testing.T) {
	f := newFixture(2)
	f.mustRun(t, Options{})
	f.store.byLogin("user1").Login = "user1 "
	r := f.mustRun(t, Options{})
	if u := f.store.byLogin("user1"); r.Renamed != 1 || u == nil || len(u.Aliases) != 0 {
		t.Fatalf("%s, user1 %+v", counts(r), u)
	}
}

// The same entry under two overlapping base DNs counts once, bad or not,
// and a user whose entry the reader could not map is kept.
func TestAnEntryReadTwiceCountsOnce(t *testing.T) {
	f := newFixture(4)
	f.mustRun(t, Options{})
	bad := roster.EntryError{DN: f.dir.recs[3].DN, Anchor: f.dir.recs[3].Anchor, Message: "the entry has no uid"}
	f.dir.recs = append(f.dir.recs[:3], f.dir.recs[0], f.dir.recs[1])
	r, err := f.runOn(t, badDir{f.dir, []roster.EntryError{bad, bad}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := counts(r), "seen 3 created 0 updated 0 renamed 0 disabled 0 reenabled 0 deleted 0 skipped 0 failed 1 held 0"; got != want {
		t.Fatalf("%s, want %s\n%s", got, want, errorsOf(r))
	}
	if u := f.store.byLogin("user3"); u.Disabled {
		t.Fatal("a user whose entry could not be mapped was disabled as missing")
	}
}

// Scope groups and their members are matched as DNs, however spelt.
func TestGroupScopeComparesDNs(t *testing.T) {
	f := newFixture(3)
	f.dir.recs[0].DN = `CN=Smith\, John,OU=People,DC=corp,DC=test`
	f.dir.recs[1].DN = "CN=caf\u00e9,OU=People,DC=corp,DC=test"
	f.dir.groups = []roster.GroupRecord{{Anchor: "g", DN: "CN=Printing,DC=corp,DC=test",
		MemberDNs: []string{`cn=Smith\2C John, ou=People, dc=corp, dc=test`, `cn=CAF\C3\89,ou=people,dc=corp,dc=test`}}}
	f.src.GroupScope = []string{"cn=printing, dc=corp, dc=test"}
	r := f.mustRun(t, Options{})
	if r.Created != 2 || r.Skipped != 1 {
		t.Fatalf("%s", counts(r))
	}
}

// A directory restored with new anchors returns every login again under
// a new entry: the removals are held, the run keeps maxHeldChanges of
// them whole and counts and names them all, and every entry waits for
// its login as held, the users past the first maxHeldChanges too.
func TestAMassRemovalHeldKeepsFewChangesWholeAndHoldsEveryLogin(t *testing.T) {
	const n = maxHeldChanges + 200
	f := newFixture(n)
	f.mustRun(t, Options{})
	// The new entries come in reverse: the first errors the run records
	// are those of the users past the first maxHeldChanges. They list no
	// cards: the former holders, disabled, keep theirs.
	recs := make([]roster.Record, n)
	for i, rec := range f.dir.recs {
		rec.Anchor, rec.Cards = "new-"+rec.Anchor, nil
		recs[n-1-i] = rec
	}
	f.dir.recs = recs
	res, err := f.run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Run
	if r.Status != roster.RunHeld || r.Held != n || len(r.HeldUsers) != n || r.Created != 0 || r.Failed != n {
		t.Fatalf("status %s, %s, %d held users", r.Status, counts(r), len(r.HeldUsers))
	}
	if len(res.Held) != maxHeldChanges {
		t.Fatalf("the result keeps %d held changes whole, want %d", len(res.Held), maxHeldChanges)
	}
	for i, ch := range res.Held {
		if ch.Kind != roster.Disable || ch.User == nil || ch.User.ID != r.HeldUsers[i] || ch.Login == "" {
			t.Fatalf("held change %d is %+v, want the disable of user %d", i, ch, r.HeldUsers[i])
		}
	}
	if len(r.EntryErrors) == 0 {
		t.Fatal("no entry error recorded")
	}
	for _, ee := range r.EntryErrors {
		if !strings.Contains(ee.Message, "held for approval") {
			t.Fatalf("the entry %s: %q; want its login held for approval", ee.DN, ee.Message)
		}
	}
	for _, u := range f.store.users {
		if u.Disabled || strings.HasPrefix(u.Anchor, "new-") {
			t.Fatalf("a held run changed %+v", u)
		}
	}

	r = f.mustRun(t, Options{ApproveRemovals: true})
	if r.Status != roster.RunSucceeded || r.Disabled != n || r.Created != n || r.Renamed != n || r.Failed != 0 {
		t.Fatalf("approved: status %s, %s\n%s", r.Status, counts(r), errorsOf(r))
	}
	if u := f.store.byLogin("user1"); u == nil || u.Anchor != "new-anchor-001" {
		t.Fatalf("user1 after the approval is %+v", u)
	}
}
