package reconcile

import (
	"encoding/binary"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// An unchanged directory costs one digest a user: no user is loaded, and
// nothing is written.
func TestAnUnchangedDirectoryLoadsNoUser(t *testing.T) {
	f := newFixture(50)
	f.mustRun(t, Options{})
	f.store.userLoads, f.store.digestReads, f.store.applies = 0, 0, 0
	r := f.mustRun(t, Options{})
	if r.Seen != 50 || r.Updated+r.Created+r.Renamed+r.Disabled != 0 {
		t.Fatalf("second run: %s", counts(r))
	}
	if f.store.userLoads != 0 || f.store.digestReads != 50 || f.store.applies != 0 {
		t.Fatalf("an unchanged run loaded %d users, read %d digests and applied %d batches; want 0, 50, 0",
			f.store.userLoads, f.store.digestReads, f.store.applies)
	}
	// One changed entry loads its user alone.
	f.dir.recs[7].Department = "Finance"
	f.store.userLoads = 0
	if r := f.mustRun(t, Options{}); r.Updated != 1 || f.store.userLoads != 1 {
		t.Fatalf("one change: %s, %d users loaded; want 1 update from 1 load", counts(r), f.store.userLoads)
	}
}

// Users stored before fingerprints (or whose fingerprint a hand write
// cleared) are compared whole once; the run keeps their fingerprints, so
// that the next one needs the digests only.
func TestUsersWithoutAFingerprintAreComparedOnceThenKept(t *testing.T) {
	f := newFixture(20)
	f.mustRun(t, Options{})
	for id := range f.store.fingerprints {
		f.store.fingerprints[id] = 0 // as the schema step leaves them
	}
	f.store.userLoads = 0
	if r := f.mustRun(t, Options{}); r.Updated != 0 || f.store.userLoads != 20 {
		t.Fatalf("the run after the upgrade: %s, %d users loaded; want no change and 20 loads", counts(r), f.store.userLoads)
	}
	for id, fp := range f.store.fingerprints {
		if fp&1 == 0 {
			t.Fatalf("user %d has no fingerprint after a run found it unchanged", id)
		}
	}
	f.store.userLoads = 0
	if f.mustRun(t, Options{}); f.store.userLoads != 0 {
		t.Fatalf("the next run loaded %d users", f.store.userLoads)
	}
	// A dry run keeps none.
	for id := range f.store.fingerprints {
		f.store.fingerprints[id] = 0
	}
	if _, err := f.run(t, Options{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	for id, fp := range f.store.fingerprints {
		if fp != 0 {
			t.Fatalf("a dry run kept the fingerprint %d of user %d", fp, id)
		}
	}
}

// What an admin changes by hand, where the directory says otherwise,
// gives way at the next sync as it did before fingerprints: the hand
// write marks the user, and the sync compares it whole.
func TestADirectoryCodeWinsOverOneSetByHandDespiteTheFingerprint(t *testing.T) {
	f := newFixture(3)
	f.dir.recs[1].PrintCode = "1234"
	f.mustRun(t, Options{})
	u := f.store.byLogin("user1")
	f.store.touch(u.ID, func(u *roster.User) { u.PrintCodeHash = "h:admin" })
	if r := f.mustRun(t, Options{}); r.Updated != 1 || f.store.byLogin("user1").PrintCodeHash != "h:1234" {
		t.Fatalf("%s; code %q, want the directory's", counts(r), f.store.byLogin("user1").PrintCodeHash)
	}
}

// A user missing from the directory, or disabled there, is never taken
// for unchanged on its fingerprint alone: the state decides too.
func TestTheFingerprintDoesNotHideAStateChange(t *testing.T) {
	f := newFixture(4)
	f.mustRun(t, Options{})
	gone := f.dir.recs[2]
	f.dir.recs = append(f.dir.recs[:2], f.dir.recs[3:]...)
	if r := f.mustRun(t, Options{}); r.Disabled != 1 {
		t.Fatalf("removal: %s", counts(r))
	}
	f.dir.recs = append(f.dir.recs, gone) // back, with the same fingerprint
	if r := f.mustRun(t, Options{}); r.Reenabled != 1 || f.store.byLogin("user2").Disabled {
		t.Fatalf("return: %s", counts(r))
	}
}

func TestFingerprintChangesWithWhatASyncWrites(t *testing.T) {
	base := roster.Record{Anchor: "a", DN: "CN=A,DC=corp", Login: "ann", Name: "Ann", Email: "ann@corp.test",
		Department: "Sales", CostCenter: "4711", Cards: []string{"C1", "C2"}, Extra: map[string][]string{"title": {"Boss"}, "room": {"1", "2"}}}
	fp := fingerprint(&base, "h:1")
	if fp&1 != 1 {
		t.Fatalf("fingerprint %x has its lowest bit clear", fp)
	}
	if again := base; fingerprint(&again, "h:1") != fp {
		t.Fatal("the same record gave two fingerprints")
	}
	changes := map[string]func(r *roster.Record){
		"dn":          func(r *roster.Record) { r.DN = "CN=a,DC=corp" },
		"login":       func(r *roster.Record) { r.Login = "anne" },
		"name":        func(r *roster.Record) { r.Name = "Anne" },
		"email":       func(r *roster.Record) { r.Email = "" },
		"department":  func(r *roster.Record) { r.Department = "Sale" },
		"cost center": func(r *roster.Record) { r.CostCenter = "4712" },
		"disabled":    func(r *roster.Record) { r.Disabled = true },
		"card order":  func(r *roster.Record) { r.Cards = []string{"C2", "C1"} },
		"card split":  func(r *roster.Record) { r.Cards = []string{"C1C2"} },
		"no cards":    func(r *roster.Record) { r.Cards = nil },
		"extra value": func(r *roster.Record) { r.Extra = map[string][]string{"title": {"Boss"}, "room": {"12"}} },
		"extra name":  func(r *roster.Record) { r.Extra = map[string][]string{"title": {"Boss"}, "rooms": {"1", "2"}} },
		// A value moved from one field to the next: the lengths tell.
		"shifted": func(r *roster.Record) { r.Name, r.Email = "Annann@corp.test", "" },
	}
	for name, change := range changes {
		r := base
		change(&r)
		if fingerprint(&r, "h:1") == fp {
			t.Errorf("a change of %s keeps the fingerprint", name)
		}
	}
	if fingerprint(&base, "h:2") == fp || fingerprint(&base, "") == fp {
		t.Error("a change of print code keeps the fingerprint")
	}
	// The anchor is how the user is found, not what is written; the
	// extra attributes count by name, in any order.
	r := base
	r.Anchor = "b"
	r.Extra = map[string][]string{"room": {"1", "2"}, "title": {"Boss"}}
	if fingerprint(&r, "h:1") != fp {
		t.Error("the fingerprint depends on the anchor or the order of the extra attributes")
	}
}

// The written-out FNV-1a is hash/fnv's, over the uvarint-prefixed
// strings: fingerprints stored before it was written out still match.
func TestFNVIsHashFNV(t *testing.T) {
	h, want := fnvHash(fnvOffset), fnv.New64a()
	for _, s := range []string{"", "ann", strings.Repeat("x", 300)} {
		h.str(s)
		want.Write(binary.AppendUvarint(nil, uint64(len(s))))
		want.Write([]byte(s))
	}
	if uint64(h) != want.Sum64() {
		t.Fatalf("%x, want hash/fnv's %x", uint64(h), want.Sum64())
	}
}
