package reconcile

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// memStore is an in-memory Store for testing the engine's logic. It keeps
// the contracts of Store as the real store does: the conformance suite
// the SQL stores pass runs on it too (store_conformance_test.go), so
// that the engine's tests do not rest on behaviour the real store lacks.
type memStore struct {
	users        map[int64]*roster.User // of every source, each with its SourceID
	nextID       int64
	applies      int
	runs         []*roster.Run // of every source, as StartRun and FinishRun stored them
	groups       []roster.GroupRecord
	conflictCard string // Apply refuses changes giving this card, like a card another user holds
	cursor       roster.Cursor
	failOn       string           // the method that fails ("UserStates", "Apply", "SyncGroups", "SaveCursor", ...), as a store that went away
	failWith     error            // what failOn's method returns, when set
	calls        map[string]int   // the calls of failOn's method, failed or not
	groupWrites  int              // calls of SyncGroups that wrote
	fingerprints map[int64]uint64 // by user ID; absent is 0
	digestReads  int              // users UserDigests returned
	cardLookups  int              // calls of UserByCard
	userLoads    int              // users UsersByAnchor returned
	marks        uint64           // the last even fingerprint touch gave

	// groups and cursor above are those of the source home, the one the
	// engine's tests sync, so that the tests read them at hand; the
	// other sources' are in others.
	home   int64
	others map[int64]*sourceState
}

// sourceState is a source's groups and cursor, kept apart from the other
// sources' as the contracts want.
type sourceState struct {
	groups []roster.GroupRecord
	cursor roster.Cursor
}

// of returns where the groups and cursor of source are kept.
func (s *memStore) of(source int64) (*[]roster.GroupRecord, *roster.Cursor) {
	if source == s.home {
		return &s.groups, &s.cursor
	}
	o := s.others[source]
	if o == nil {
		o = &sourceState{}
		s.others[source] = o
	}
	return &o.groups, &o.cursor
}

// fail returns the store's outage when method is the one set to fail.
func (s *memStore) fail(method string) error {
	if s.failOn == method {
		if s.calls == nil {
			s.calls = map[string]int{}
		}
		s.calls[method]++
		if s.failWith != nil {
			return s.failWith
		}
		return &roster.Error{Code: roster.EUNAVAILABLE, Message: "the user base did not answer (" + method + ")"}
	}
	return nil
}

// newStore returns an empty store whose home source is 1, the source the
// engine's tests run.
func newStore() *memStore {
	return &memStore{users: map[int64]*roster.User{}, home: 1, others: map[int64]*sourceState{}, fingerprints: map[int64]uint64{}}
}

func clone(u *roster.User) *roster.User {
	c := *u
	c.Cards = append([]roster.Card(nil), u.Cards...)
	c.Aliases = append([]string(nil), u.Aliases...)
	return &c
}

func (s *memStore) UsersByAnchor(_ context.Context, source int64, anchors []string) (map[string]*roster.User, error) {
	out := map[string]*roster.User{}
	for _, a := range anchors {
		for _, u := range s.users {
			if u.SourceID == source && u.Anchor == a {
				out[a] = clone(u)
				s.userLoads++
			}
		}
	}
	return out, nil
}

func (s *memStore) UserByCard(_ context.Context, number string) (*roster.User, error) {
	s.cardLookups++
	for _, u := range s.users {
		for _, c := range u.Cards {
			if c.Number == number {
				return clone(u), nil
			}
		}
	}
	return nil, &roster.Error{Code: roster.ENOTFOUND, Message: "no user holds card " + number}
}

func (s *memStore) UserDigests(_ context.Context, source int64, anchors []string) (map[string]roster.UserDigest, error) {
	if err := s.fail("UserDigests"); err != nil {
		return nil, err
	}
	out := map[string]roster.UserDigest{}
	for _, a := range anchors {
		for _, u := range s.users {
			if u.SourceID == source && u.Anchor == a {
				out[a] = roster.UserDigest{ID: u.ID, Anchor: u.Anchor, Login: u.Login, Fingerprint: s.fingerprints[u.ID],
					Disabled: u.Disabled, DisabledReason: u.DisabledReason, Missing: !u.MissingSince.IsZero()}
				s.digestReads++
			}
		}
	}
	return out, nil
}

func (s *memStore) SaveFingerprints(_ context.Context, source int64, fps []roster.UserFingerprint) error {
	if err := s.fail("SaveFingerprints"); err != nil {
		return err
	}
	for _, fp := range fps {
		if u := s.users[fp.ID]; u != nil && u.SourceID == source && s.fingerprints[fp.ID] == fp.Was {
			s.fingerprints[fp.ID] = fp.Fingerprint
		}
	}
	return nil
}

// touch changes a user by hand, as an admin setting a print code or a
// card does: the store marks it with a new even fingerprint.
func (s *memStore) touch(id int64, change func(u *roster.User)) {
	change(s.users[id])
	s.marks += 2
	s.fingerprints[id] = s.marks
}

func (s *memStore) LoginOwners(_ context.Context, source int64, logins []string) (map[string]string, error) {
	if err := s.fail("LoginOwners"); err != nil {
		return nil, err
	}
	// The oldest holder (lowest ID) wins, as in the stores.
	out, ids := map[string]string{}, map[string]int64{}
	for _, l := range logins {
		for _, u := range s.users {
			if u.SourceID == source && u.Login == l {
				if id, ok := ids[l]; !ok || u.ID < id {
					out[l], ids[l] = u.Anchor, u.ID
				}
			}
		}
	}
	return out, nil
}

func (s *memStore) UserStates(ctx context.Context, source int64, fn func(roster.UserState) error) error {
	if err := s.fail("UserStates"); err != nil {
		return err
	}
	return s.Users(ctx, source, func(u *roster.User) error {
		return fn(roster.UserState{ID: u.ID, Anchor: u.Anchor, Disabled: u.Disabled, DisabledReason: u.DisabledReason, MissingSince: u.MissingSince})
	})
}

func (s *memStore) HasUsers(_ context.Context, source int64) (bool, error) {
	if err := s.fail("HasUsers"); err != nil {
		return false, err
	}
	for _, u := range s.users {
		if u.SourceID == source {
			return true, nil
		}
	}
	return false, nil
}

func (s *memStore) CountUsers(_ context.Context, source int64) (int, error) {
	if err := s.fail("CountUsers"); err != nil {
		return 0, err
	}
	n := 0
	for _, u := range s.users {
		if u.SourceID == source {
			n++
		}
	}
	return n, nil
}

func (s *memStore) Users(_ context.Context, source int64, fn func(*roster.User) error) error {
	ids := make([]int64, 0, len(s.users))
	for id, u := range s.users {
		if u.SourceID == source {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if err := fn(clone(s.users[id])); err != nil {
			return err
		}
	}
	return nil
}

// writesCards reports whether Apply writes the directory cards of ch.
func writesCards(ch roster.Change) bool {
	return ch.Kind == roster.Create || ch.Kind != roster.Delete && ch.CardsChanged
}

// refuse returns the error Apply gives for changes, checked before
// anything is written so that a refused batch writes nothing: a user to
// change that is not the source's, or a card that would belong to two
// users once the batch is written.
func (s *memStore) refuse(source int64, changes []roster.Change) error {
	holders := map[string]int64{} // card number -> user ID
	for id, u := range s.users {
		for _, c := range u.Cards {
			holders[c.Number] = id
		}
	}
	for _, ch := range changes {
		if ch.Kind == roster.Create {
			continue
		}
		old := s.users[ch.User.ID]
		if old == nil || old.SourceID != source || ch.User.Anchor != "" && ch.User.Anchor != old.Anchor {
			return &roster.Error{Code: roster.ENOTFOUND, Message: fmt.Sprintf("user %d is not a user of the source", ch.User.ID)}
		}
		// Like the real store, deletes and card replacements come before
		// the cards are written: a card may move within a batch.
		for _, c := range old.Cards {
			if ch.Kind == roster.Delete || ch.CardsChanged && c.Origin != roster.CardManual {
				delete(holders, c.Number)
			}
		}
	}
	for i, ch := range changes {
		if !writesCards(ch) {
			continue // cards left as stored: none are written
		}
		id := ch.User.ID
		if ch.Kind == roster.Create {
			id = -int64(i) - 1 // not stored yet: no other user's ID
		}
		for _, c := range ch.User.Cards {
			if c.Origin == roster.CardManual {
				continue
			}
			if c.Number == s.conflictCard {
				return &roster.Error{Code: roster.ECONFLICT, Message: "card " + c.Number + " belongs to someone else"}
			}
			if h, ok := holders[c.Number]; ok && h != id {
				return &roster.Error{Code: roster.ECONFLICT, Message: "card " + c.Number + " of " + ch.User.Login + " belongs to another user"}
			}
			holders[c.Number] = id
		}
	}
	return nil
}

// cardsToWrite returns the cards of u that Apply writes: those not
// manual, as directory cards.
func cardsToWrite(u *roster.User) []roster.Card {
	var out []roster.Card
	for _, c := range u.Cards {
		if c.Origin != roster.CardManual {
			c.Origin = roster.CardFromDirectory
			out = append(out, c)
		}
	}
	return out
}

func (s *memStore) Apply(_ context.Context, source int64, changes []roster.Change) ([]int64, error) {
	if err := s.fail("Apply"); err != nil {
		return nil, err
	}
	if err := s.refuse(source, changes); err != nil {
		return nil, err
	}
	s.applies++
	ids := make([]int64, len(changes))
	for i, ch := range changes {
		u := clone(ch.User)
		u.SourceID = source
		switch ch.Kind {
		case roster.Create:
			s.nextID++
			u.ID = s.nextID
			u.Aliases, u.Cards = nil, cardsToWrite(ch.User)
		case roster.Delete:
			delete(s.users, u.ID)
			delete(s.fingerprints, u.ID)
			ids[i] = u.ID
			continue
		default:
			old := s.users[u.ID]
			u.Anchor, u.Aliases = old.Anchor, append([]string(nil), old.Aliases...)
			// An update writes the cards only when the change says they
			// changed, and keeps the manual ones: a change that forgets
			// to say so loses its cards here too.
			u.Cards = append([]roster.Card(nil), old.Cards...)
			if ch.CardsChanged {
				u.Cards = cardsToWrite(ch.User)
				for _, c := range old.Cards {
					if c.Origin == roster.CardManual {
						u.Cards = append(u.Cards, c)
					}
				}
			}
			// The code is written only over the one the change was
			// planned from, not over one an admin set meanwhile.
			if old.PrintCodeHash != ch.PrintCodeWas {
				u.PrintCodeHash = old.PrintCodeHash
				ch.Fingerprint = 0 // the user is not what the change planned
			}
			if ch.Kind == roster.Rename && ch.OldLogin != "" && ch.OldLogin != u.Login && !slices.Contains(u.Aliases, ch.OldLogin) {
				u.Aliases = append(u.Aliases, ch.OldLogin)
			}
			u.Aliases = slices.DeleteFunc(u.Aliases, func(a string) bool { return a == u.Login })
		}
		s.users[u.ID] = u
		s.fingerprints[u.ID] = ch.Fingerprint
		ids[i] = u.ID
		if ch.Kind == roster.Create || ch.Kind == roster.Rename {
			s.freeLogin(u)
		}
	}
	return ids, nil
}

// freeLogin takes u's login out of the aliases of the source's other
// users, as the real store does: a login freed by a rename goes to its
// new holder. Users gone from the directory keep theirs, as a record.
func (s *memStore) freeLogin(u *roster.User) {
	for _, o := range s.users {
		if o.ID != u.ID && o.SourceID == u.SourceID && o.DisabledReason != roster.DisabledMissing {
			o.Aliases = slices.DeleteFunc(o.Aliases, func(a string) bool { return a == u.Login })
		}
	}
}

// memberSet is a group's members as the fake store compares them.
func memberSet(g roster.GroupRecord) map[string]bool {
	out := map[string]bool{}
	for _, m := range g.MemberDNs {
		out[strings.ToLower(m)] = true
	}
	return out
}

// twice returns the EINVALID of groups that share an anchor, nil when
// none do.
func twice(groups []roster.GroupRecord) error {
	read := map[string]bool{}
	for _, g := range groups {
		if read[g.Anchor] {
			return &roster.Error{Code: roster.EINVALID, Message: "group anchor " + g.Anchor + " appears twice"}
		}
		read[g.Anchor] = true
	}
	return nil
}

func (s *memStore) PlanGroups(_ context.Context, source int64, groups []roster.GroupRecord) (roster.GroupPlan, error) {
	var p roster.GroupPlan
	if err := s.fail("PlanGroups"); err != nil {
		return p, err
	}
	if err := twice(groups); err != nil {
		return p, err
	}
	have, _ := s.of(source)
	stored := map[string]roster.GroupRecord{}
	for _, g := range *have {
		stored[g.Anchor] = g
		p.Groups++
		p.Members += len(memberSet(g))
	}
	read := map[string]bool{}
	for _, g := range groups {
		read[g.Anchor] = true
		old, ok := stored[g.Anchor]
		switch {
		case !ok:
			p.AddGroups++
		case old.DN != g.DN || old.Name != g.Name:
			p.UpdateGroups++
		}
		have, want := memberSet(old), memberSet(g)
		for m := range want {
			if !have[m] {
				p.AddMembers++
			}
		}
		lost := 0
		for m := range have {
			if !want[m] {
				lost++
			}
		}
		if lost > 0 {
			p.RemoveMembers += lost
			p.Shrunk = append(p.Shrunk, g.Name)
		}
	}
	for _, g := range *have {
		if !read[g.Anchor] {
			p.RemoveGroups++
			p.RemoveMembers += len(memberSet(g))
			p.Removed = append(p.Removed, g.Name)
		}
	}
	sort.Strings(p.Removed)
	sort.Strings(p.Shrunk)
	return p, nil
}

// SyncGroups keeps the groups as the records written, in anchor order;
// without opt.Remove the stored groups and members stay besides.
func (s *memStore) SyncGroups(_ context.Context, source int64, groups []roster.GroupRecord, opt roster.GroupSync) error {
	if err := s.fail("SyncGroups"); err != nil {
		return err
	}
	if err := twice(groups); err != nil {
		return err // before anything is written
	}
	stored, cursor := s.of(source)
	next := map[string]roster.GroupRecord{}
	if !opt.Remove {
		for _, g := range *stored {
			next[g.Anchor] = g
		}
	}
	for _, g := range groups {
		g.MemberDNs = append([]string(nil), g.MemberDNs...)
		if old, ok := next[g.Anchor]; ok {
			want := memberSet(g)
			for _, m := range old.MemberDNs {
				if !want[strings.ToLower(m)] {
					g.MemberDNs = append(g.MemberDNs, m)
				}
			}
		}
		next[g.Anchor] = g
	}
	*stored = nil
	for _, g := range next {
		*stored = append(*stored, g)
	}
	sort.Slice(*stored, func(i, j int) bool { return (*stored)[i].Anchor < (*stored)[j].Anchor })
	if !opt.Cursor.IsZero() {
		*cursor = opt.Cursor
	}
	s.groupWrites++
	return nil
}

// groupState describes the stored groups as "name: member, member; ...".
func (s *memStore) groupState() string {
	var out []string
	for _, g := range s.groups {
		m := append([]string(nil), g.MemberDNs...)
		sort.Strings(m)
		out = append(out, g.Name+": "+strings.Join(m, ", "))
	}
	return strings.Join(out, "; ")
}

// storedRun is the store's copy of r: the caller's run goes on changing
// until FinishRun stores its end.
func storedRun(r *roster.Run) *roster.Run {
	c := *r
	c.Notes = slices.Clone(r.Notes)
	c.EntryErrors = slices.Clone(r.EntryErrors)
	c.HeldUsers = slices.Compact(slices.Sorted(slices.Values(r.HeldUsers)))
	return &c
}

func (s *memStore) StartRun(_ context.Context, r *roster.Run) error {
	r.ID = int64(len(s.runs) + 1)
	stored := storedRun(r)
	stored.Status = roster.RunRunning
	s.runs = append(s.runs, stored)
	return nil
}

func (s *memStore) FinishRun(_ context.Context, r *roster.Run) error {
	for i, old := range s.runs {
		if old.ID == r.ID {
			s.runs[i] = storedRun(r)
			return nil
		}
	}
	return &roster.Error{Code: roster.ENOTFOUND, Message: fmt.Sprintf("no run has the ID %d", r.ID)}
}

func (s *memStore) Cursor(_ context.Context, source int64) (roster.Cursor, error) {
	_, c := s.of(source)
	return *c, nil
}

func (s *memStore) SaveCursor(_ context.Context, source int64, c roster.Cursor) error {
	if err := s.fail("SaveCursor"); err != nil {
		return err
	}
	_, cursor := s.of(source)
	*cursor = c
	return nil
}

func (s *memStore) HeldRemovals(_ context.Context, source int64) (roster.Hold, error) {
	for i := len(s.runs) - 1; i >= 0; i-- {
		r := s.runs[i]
		switch {
		case r.SourceID != source:
		case r.Status == roster.RunHeld:
			return roster.Hold{RunID: r.ID, Users: slices.Clone(r.HeldUsers), Groups: r.HeldGroups, Memberships: r.HeldMemberships}, nil
		case r.Status == roster.RunSucceeded && r.Mode == roster.RunFull:
			return roster.Hold{}, nil
		}
	}
	return roster.Hold{}, nil
}

func (s *memStore) byLogin(l string) *roster.User {
	for _, u := range s.users {
		if u.Login == l {
			return u
		}
	}
	return nil
}

// memDir serves records in pages, and can fail after some pages.
type memDir struct {
	recs      []roster.Record
	groups    []roster.GroupRecord
	pageSize  int
	failAt    int   // fail before this page (1-based); 0 never
	groupsErr error // Groups fails with it
}

func (d *memDir) Users(ctx context.Context, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	size := d.pageSize
	if size == 0 {
		size = 3
	}
	for i, n := 0, 1; i < len(d.recs); i, n = i+size, n+1 {
		if d.failAt == n {
			return &roster.Error{Code: roster.EUNAVAILABLE, Message: "the connection to the directory was cut"}
		}
		if err := page(append([]roster.Record(nil), d.recs[i:min(i+size, len(d.recs))]...)); err != nil {
			return err
		}
	}
	return nil
}

func (d *memDir) Groups(context.Context) ([]roster.GroupRecord, error) {
	if d.groupsErr != nil {
		return nil, d.groupsErr
	}
	return d.groups, nil
}

func people(n int) []roster.Record {
	out := make([]roster.Record, n)
	for i := range out {
		out[i] = roster.Record{Anchor: fmt.Sprintf("anchor-%03d", i), DN: fmt.Sprintf("CN=U%d,OU=AADDC Users,DC=corp,DC=test", i),
			Login: fmt.Sprintf("user%d", i), Name: fmt.Sprintf("User %d", i), Cards: []string{fmt.Sprintf("C%05d", i)}}
	}
	return out
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type fixture struct {
	store *memStore
	dir   *memDir
	src   *roster.Source
	now   time.Time
}

func newFixture(n int) *fixture {
	return &fixture{store: newStore(), dir: &memDir{recs: people(n)}, src: &roster.Source{Type: roster.EntraDS}, now: t0}
}

func (f *fixture) run(t *testing.T, opt Options) (*Result, error) {
	t.Helper()
	e := &Engine{Store: f.store, Now: func() time.Time { return f.now }, HashCode: func(c string) string { return "h:" + c }}
	return e.Run(context.Background(), f.src, 1, f.dir, opt)
}

// plan makes a dry run and returns it with its changes, as "kind login".
// It makes it twice: keeping the plan (Result.Changes), and handing it
// out as it goes (Options.Plan), which must plan the same.
func (f *fixture) plan(t *testing.T) (*Result, []string) {
	t.Helper()
	res, err := f.run(t, Options{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	var planned []string
	for _, ch := range res.Changes {
		planned = append(planned, string(ch.Kind)+" "+ch.Login)
	}
	var handed []roster.Change
	out, err := f.run(t, Options{DryRun: true, Plan: func(changes []roster.Change) error {
		handed = append(handed, changes...)
		return nil
	}})
	if err != nil {
		t.Fatalf("dry run with Plan: %v", err)
	}
	if out.Changes != nil || !reflect.DeepEqual(handed, res.Changes) || counts(out.Run) != counts(res.Run) || !reflect.DeepEqual(out.Run.Notes, res.Run.Notes) {
		t.Fatalf("a dry run with Plan kept %d changes and handed out %d, with %s and notes %q; without it: %d changes, %s, %q",
			len(out.Changes), len(handed), counts(out.Run), out.Run.Notes, len(res.Changes), counts(res.Run), res.Run.Notes)
	}
	return res, planned
}

func (f *fixture) mustRun(t *testing.T, opt Options) *roster.Run {
	t.Helper()
	res, err := f.run(t, opt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res.Run
}

func counts(r *roster.Run) string {
	return fmt.Sprintf("seen %d created %d updated %d renamed %d disabled %d reenabled %d deleted %d skipped %d failed %d held %d",
		r.Seen, r.Created, r.Updated, r.Renamed, r.Disabled, r.Reenabled, r.Deleted, r.Skipped, r.Failed, r.Held)
}

func TestFirstSyncCreatesEveryoneAndASecondChangesNothing(t *testing.T) {
	f := newFixture(10)
	r := f.mustRun(t, Options{})
	if got, want := counts(r), "seen 10 created 10 updated 0 renamed 0 disabled 0 reenabled 0 deleted 0 skipped 0 failed 0 held 0"; got != want {
		t.Fatalf("first run: %s, want %s", got, want)
	}
	if r.Status != roster.RunSucceeded || len(f.store.users) != 10 {
		t.Fatalf("status %s, %d users", r.Status, len(f.store.users))
	}
	applies := f.store.applies
	r = f.mustRun(t, Options{})
	if got, want := counts(r), "seen 10 created 0 updated 0 renamed 0 disabled 0 reenabled 0 deleted 0 skipped 0 failed 0 held 0"; got != want {
		t.Fatalf("unchanged run: %s, want %s", got, want)
	}
	if f.store.applies != applies {
		t.Fatal("an unchanged run wrote to the store")
	}
}

// A source with no stored user has no digest and no login owner to find:
// its first sync asks for none (each lookup fails here), and plans the
// same, duplicates in the directory included, even those that come after
// a batch was written. Once it has users, the lookups are asked for
// again.
func TestAFirstSyncOfAnEmptySourceLooksNothingUp(t *testing.T) {
	const n = applyBatch + 100 // a batch is written before the duplicates come
	for _, lookup := range []string{"UserDigests", "LoginOwners"} {
		t.Run(lookup, func(t *testing.T) {
			f := newFixture(n)
			// The same entry twice, and another entry with its login.
			f.dir.recs = append(f.dir.recs, f.dir.recs[3], roster.Record{Anchor: "twin", DN: "CN=Twin", Login: f.dir.recs[5].Login, Name: "Twin"})
			f.store.failOn = lookup
			r := f.mustRun(t, Options{})
			want := fmt.Sprintf("seen %d created %d updated 0 renamed 0 disabled 0 reenabled 0 deleted 0 skipped 0 failed 1 held 0", n+1, n)
			if got := counts(r); got != want || r.Status != roster.RunSucceeded || len(f.store.users) != n || f.store.applies < 2 {
				t.Fatalf("first sync of an empty source: %s, %s, %d users in %d writes; want %s", got, r.Status, len(f.store.users), f.store.applies, want)
			}
			// A new entry: its login is new, and the source has users.
			f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "new", DN: "CN=New", Login: "newcomer", Name: "New Comer"})
			if _, err := f.run(t, Options{}); err == nil || !strings.Contains(err.Error(), lookup) {
				t.Fatalf("the next sync did not ask for %s: %v", lookup, err)
			}
		})
	}
	// A user base that cannot say whether the source has users: the
	// run fails before it writes anything.
	f := newFixture(5)
	f.store.failOn = "HasUsers"
	if res, err := f.run(t, Options{}); err == nil || len(f.store.users) != 0 || f.store.applies != 0 || res.Run.Status != roster.RunFailed {
		t.Fatalf("a sync whose HasUsers failed: %v, %d users, %d writes", err, len(f.store.users), f.store.applies)
	}
}

// When every stored user came back (or was created by the run), nobody
// is missing, and the removals read no user's state: the store's
// UserStates fails here, and the run must not need it. When one user is
// missing, or the count does not add up otherwise, they read every state.
func TestRemovalsReadTheStatesOnlyWhenSomeoneMayBeMissing(t *testing.T) {
	f := newFixture(30)
	f.mustRun(t, Options{})
	f.store.failOn = "UserStates"
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "new", DN: "CN=New", Login: "newcomer", Name: "New Comer"})
	r := f.mustRun(t, Options{}) // 30 returned, 1 created
	if r.Created != 1 || r.Status != roster.RunSucceeded {
		t.Fatalf("a run with everyone back and one new: %s, %s", counts(r), r.Status)
	}
	if _, err := f.run(t, Options{DryRun: true}); err != nil {
		t.Fatalf("a dry run with everyone back read the states: %v", err)
	}

	// One user gone: the states are read (and fail here).
	gone := f.dir.recs[7]
	f.dir.recs = append(f.dir.recs[:7:7], f.dir.recs[8:]...)
	if _, err := f.run(t, Options{}); err == nil {
		t.Fatal("a run with a user gone did not read the stored states")
	}
	// A user gone and a bad entry in its place: the count is the same
	// (31 returned), but the bad entry is not a stored user come back.
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "broken", DN: "CN=Broken", Login: ""})
	if _, err := f.run(t, Options{}); err == nil {
		t.Fatal("a run with a user gone and a bad entry did not read the stored states")
	}
	// One gone and one new: a dry run, which creates nobody, counts the
	// new entry as no stored user, reads the states and plans the leaver's
	// disable, as the real run does.
	f.store.failOn = ""
	f.dir.recs = f.dir.recs[:len(f.dir.recs)-1] // the bad entry goes
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "new2", DN: "CN=New2", Login: "newcomer2", Name: "New Comer"})
	_, planned := f.plan(t)
	if !slices.Contains(planned, string(roster.Disable)+" "+gone.Login) || !slices.Contains(planned, string(roster.Create)+" newcomer2") {
		t.Fatalf("the dry run with one gone and one new plans %v", planned)
	}
	// Nobody is lost when the states are read again.
	r = f.mustRun(t, Options{})
	if u := f.store.byLogin(gone.Login); r.Disabled != 1 || !u.Disabled {
		t.Fatalf("the user gone: %s; %+v", counts(r), u)
	}
	if u := f.store.byLogin("user3"); u.Disabled {
		t.Fatal("a returned user was disabled")
	}
}

func TestRenameKeepsTheUserAndTheOldLoginAsAlias(t *testing.T) {
	f := newFixture(5)
	f.mustRun(t, Options{})
	before := f.store.byLogin("user2")
	before.Cards = append(before.Cards, roster.Card{Number: "MANUAL-1", Kind: roster.CardTemporary, Origin: roster.CardManual})

	f.dir.recs[2].Login = "renamed2"
	f.dir.recs[2].DN = "CN=Renamed,OU=Moved,DC=corp,DC=test"
	f.dir.recs[3].DN = "CN=U3,OU=Moved,DC=corp,DC=test"
	r := f.mustRun(t, Options{})
	if r.Renamed != 2 || r.Created != 0 {
		t.Fatalf("%s, want 2 renames and no create", counts(r))
	}
	after := f.store.byLogin("renamed2")
	if after == nil || after.ID != before.ID {
		t.Fatal("the renamed entry became another user")
	}
	if len(after.Aliases) != 1 || after.Aliases[0] != "user2" {
		t.Errorf("aliases %v, want the old login", after.Aliases)
	}
	if !hasCard(after, "MANUAL-1") {
		t.Error("the manual card was lost on rename")
	}
}

func hasCard(u *roster.User, n string) bool {
	for _, c := range u.Cards {
		if c.Number == n {
			return true
		}
	}
	return false
}

func TestDisableAndReenable(t *testing.T) {
	f := newFixture(4)
	f.mustRun(t, Options{})
	f.store.byLogin("user3").Disabled, f.store.byLogin("user3").DisabledReason = true, roster.DisabledByAdmin

	f.dir.recs[1].Disabled = true
	r := f.mustRun(t, Options{})
	if r.Disabled != 1 || f.store.byLogin("user1").DisabledReason != roster.DisabledInDirectory {
		t.Fatalf("directory disable: %s, reason %q", counts(r), f.store.byLogin("user1").DisabledReason)
	}
	f.dir.recs[1].Disabled = false
	r = f.mustRun(t, Options{})
	if r.Reenabled != 1 || f.store.byLogin("user1").Disabled {
		t.Fatalf("re-enable: %s", counts(r))
	}
	if !f.store.byLogin("user3").Disabled {
		t.Fatal("a sync re-enabled a user an admin had disabled")
	}
}

func TestSkipDisabledPolicy(t *testing.T) {
	f := newFixture(4)
	f.src.DisabledUsers = roster.SkipDisabled
	f.dir.recs[0].Disabled = true
	r := f.mustRun(t, Options{})
	if r.Created != 3 || r.Skipped != 1 || f.store.byLogin("user0") != nil {
		t.Fatalf("%s; a disabled entry must not be created with skip", counts(r))
	}
}

func TestUsersWhoLeaveAreDisabledThenComeBack(t *testing.T) {
	f := newFixture(30)
	f.mustRun(t, Options{})
	gone := f.dir.recs[7]
	f.dir.recs = append(f.dir.recs[:7], f.dir.recs[8:]...)
	f.now = t0.Add(time.Hour)
	r := f.mustRun(t, Options{})
	u := f.store.byLogin(gone.Login)
	if r.Disabled != 1 || !u.Disabled || u.DisabledReason != roster.DisabledMissing || !u.MissingSince.Equal(f.now) {
		t.Fatalf("%s; user %+v", counts(r), u)
	}
	f.dir.recs = append(f.dir.recs, gone)
	r = f.mustRun(t, Options{})
	if r.Reenabled != 1 || f.store.byLogin(gone.Login).Disabled || !f.store.byLogin(gone.Login).MissingSince.IsZero() {
		t.Fatalf("back: %s", counts(r))
	}
}

func TestDeleteAfterGrace(t *testing.T) {
	f := newFixture(30)
	f.src.Removal = roster.RemovalPolicy{Delete: true, Grace: 72 * time.Hour}
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[1:]
	f.now = t0.Add(time.Hour)
	if r := f.mustRun(t, Options{}); r.Disabled != 1 || r.Deleted != 0 {
		t.Fatalf("inside the grace: %s, want a disable", counts(r))
	}
	f.now = t0.Add(48 * time.Hour)
	if r := f.mustRun(t, Options{}); r.Deleted != 0 {
		t.Fatalf("still inside the grace: %s", counts(r))
	}
	f.now = t0.Add(74 * time.Hour)
	if r := f.mustRun(t, Options{}); r.Deleted != 1 || f.store.byLogin("user0") != nil {
		t.Fatalf("after the grace: %s", counts(r))
	}
}

func TestAFailedRunRemovesNobody(t *testing.T) {
	f := newFixture(30)
	f.mustRun(t, Options{})
	f.dir.failAt = 3 // two pages of three, then the connection is cut
	f.dir.recs[0].Name = "Changed"
	res, err := f.run(t, Options{})
	if err == nil || res.Run.Status != roster.RunFailed || !strings.Contains(res.Run.Error, "connection to the directory was cut") {
		t.Fatalf("Run() = %v, status %s, error %q", err, res.Run.Status, res.Run.Error)
	}
	for _, u := range f.store.users {
		if u.Disabled {
			t.Fatalf("%s was disabled by a failed run", u.Login)
		}
	}
	if res.Run.Updated != 1 || f.store.byLogin("user0").Name != "Changed" {
		t.Errorf("the pages read before the failure should be applied: %s", counts(res.Run))
	}
	if !strings.Contains(strings.Join(res.Run.Notes, " "), "nobody was disabled") {
		t.Errorf("notes %q do not say nobody was removed", res.Run.Notes)
	}
}

func TestAnEmptyResultRemovesNobody(t *testing.T) {
	f := newFixture(30)
	f.mustRun(t, Options{})
	f.dir.recs = nil
	r := f.mustRun(t, Options{})
	if r.Disabled != 0 || !strings.Contains(strings.Join(r.Notes, " "), "returned no users") {
		t.Fatalf("%s, notes %q", counts(r), r.Notes)
	}
}

func TestRemovalThresholdHoldsThenApproves(t *testing.T) {
	f := newFixture(100)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[:80] // 20 of 100 gone: more than 5% and more than 10
	res, err := f.run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Run
	if r.Status != roster.RunHeld || r.Held != 20 || r.Disabled != 0 || len(r.HeldUsers) != 20 || len(res.Held) != 20 {
		t.Fatalf("%s, status %s", counts(r), r.Status)
	}
	for _, u := range f.store.users {
		if u.Disabled {
			t.Fatal("a held removal was carried out")
		}
	}
	r = f.mustRun(t, Options{ApproveRemovals: true})
	if r.Status != roster.RunSucceeded || r.Disabled != 20 {
		t.Fatalf("approved: %s, status %s", counts(r), r.Status)
	}
}

func TestSmallRemovalsGoThroughUnderTheThreshold(t *testing.T) {
	f := newFixture(100)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[:95] // 5 of 100: under both limits
	if r := f.mustRun(t, Options{}); r.Disabled != 5 || r.Status != roster.RunSucceeded {
		t.Fatalf("%s, status %s", counts(r), r.Status)
	}
}

func TestBadEntriesAreSkippedAndReported(t *testing.T) {
	f := newFixture(6)
	f.dir.recs[0].Login = ""
	f.dir.recs[1].Name = "bad \xff byte"
	f.dir.recs[2].Email = strings.Repeat("x", 5000)
	f.dir.recs[3].Login = "user4" // the same login as the next entry
	f.dir.recs[5].Anchor = ""
	r := f.mustRun(t, Options{})
	if r.Status != roster.RunSucceeded || r.Created != 1 || r.Failed != 5 {
		t.Fatalf("%s, status %s", counts(r), r.Status)
	}
	msgs := ""
	for _, ee := range r.EntryErrors {
		msgs += ee.DN + ": " + ee.Message + "\n"
	}
	for _, want := range []string{"no login", "not valid UTF-8", "more than 2048", "also the login of another entry", "no identity anchor"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("entry errors lack %q:\n%s", want, msgs)
		}
	}
}

func TestDuplicateCardsStayWithTheFirstHolder(t *testing.T) {
	f := newFixture(3)
	f.dir.recs[2].Cards = []string{"C00000"} // user0's card
	r := f.mustRun(t, Options{})
	if r.Failed != 1 || !strings.Contains(r.EntryErrors[0].Message, "held by both user0 and user2") {
		t.Fatalf("%s, errors %+v", counts(r), r.EntryErrors)
	}
	if hasCard(f.store.byLogin("user2"), "C00000") || !hasCard(f.store.byLogin("user0"), "C00000") {
		t.Fatal("the card moved to the second holder")
	}
}

// The run keeps few holders' logins (see runner.cards): the first holder
// of a card listed twice is named wherever it is, whether the user base
// had it before the run, or got it from an earlier batch, or a dry run
// planned it in an earlier batch, or the source skips it as disabled.
// Past applyBatch entries, the duplicate comes after a write.
func TestADuplicateCardNamesItsFirstHolderWhereverItIs(t *testing.T) {
	const late = applyBatch + 3 // an entry read after the first write
	want := func(t *testing.T, r *roster.Run, second string) {
		t.Helper()
		if r.Failed != 1 || !strings.Contains(r.EntryErrors[0].Message, "held by both user0 and "+second) {
			t.Fatalf("%s, errors %+v", counts(r), r.EntryErrors)
		}
	}
	t.Run("in the user base before the run", func(t *testing.T) {
		f := newFixture(3)
		f.mustRun(t, Options{})
		f.dir.recs[2].Cards = []string{"C00000"}
		want(t, f.mustRun(t, Options{}), "user2")
		if !hasCard(f.store.byLogin("user0"), "C00000") || hasCard(f.store.byLogin("user2"), "C00000") {
			t.Fatal("the card moved to the second holder")
		}
	})
	t.Run("written by an earlier batch", func(t *testing.T) {
		// The first sync of a source asks the user base nothing (see
		// firstHolder): it says the duplicate, and the next sync names it.
		f := newFixture(late + 1)
		f.dir.recs[late].Cards = []string{"C00000"}
		r := f.mustRun(t, Options{})
		if r.Failed != 1 || f.store.cardLookups != 0 || !strings.Contains(r.EntryErrors[0].Message, fmt.Sprintf("card C00000 is also listed by an earlier entry of the directory, which keeps it, and user%d gets no such card; the next full sync names", late)) {
			t.Fatalf("first sync: %s, %d lookups, errors %+v", counts(r), f.store.cardLookups, r.EntryErrors)
		}
		want(t, f.mustRun(t, Options{}), fmt.Sprintf("user%d", late))
		if !hasCard(f.store.byLogin("user0"), "C00000") || hasCard(f.store.byLogin(fmt.Sprintf("user%d", late)), "C00000") {
			t.Fatal("the card is not user0's alone")
		}
	})
	t.Run("planned by an earlier batch of a dry run", func(t *testing.T) {
		f := newFixture(late + 1)
		f.dir.recs[late].Cards = []string{"C00000"}
		res, _ := f.plan(t)
		want(t, res.Run, fmt.Sprintf("user%d", late))
	})
	t.Run("refused by the user base, and said again at the next sync", func(t *testing.T) {
		// user0 lists the card user<late> still holds: its write is
		// refused, and user<late> then loses the card to it. The next
		// sync gives it to user0, and says so again.
		f := newFixture(late + 1)
		f.mustRun(t, Options{})
		for i := range f.dir.recs {
			f.dir.recs[i].Name += " (new)" // every user changes: a write comes before user<late>
		}
		card := fmt.Sprintf("C%05d", late)
		f.dir.recs[0].Cards = []string{card}
		for run := 1; run <= 2; run++ {
			r := f.mustRun(t, Options{})
			msgs := ""
			for _, ee := range r.EntryErrors {
				msgs += ee.Message + "\n"
			}
			if !strings.Contains(msgs, fmt.Sprintf("card %s is held by both user0 and user%d", card, late)) {
				t.Fatalf("run %d: %s, errors:\n%s", run, counts(r), msgs)
			}
		}
		if !hasCard(f.store.byLogin("user0"), card) || hasCard(f.store.byLogin(fmt.Sprintf("user%d", late)), card) {
			t.Fatal("after the second sync the card is not user0's alone")
		}
	})
	t.Run("moved in a dry run, and in the run", func(t *testing.T) {
		// user1 takes user0's card, and user<late> lists it too: the
		// plan names user1, not user0 whom the user base still names.
		f := newFixture(late + 1)
		f.mustRun(t, Options{})
		for i := range f.dir.recs {
			f.dir.recs[i].Name += " (new)"
		}
		f.dir.recs[0].Cards = nil
		f.dir.recs[1].Cards = []string{"C00000"}
		f.dir.recs[late].Cards = []string{"C00000"}
		res, _ := f.plan(t)
		want := fmt.Sprintf("held by both user1 and user%d", late)
		if res.Run.Failed != 1 || !strings.Contains(res.Run.EntryErrors[0].Message, want) {
			t.Fatalf("dry run: %s, errors %+v", counts(res.Run), res.Run.EntryErrors)
		}
		if r := f.mustRun(t, Options{}); r.Failed != 1 || !strings.Contains(r.EntryErrors[0].Message, want) {
			t.Fatalf("run: %s, errors %+v", counts(r), r.EntryErrors)
		}
	})
	t.Run("many entries, one lookup", func(t *testing.T) {
		f := newFixture(late + 5)
		for i := late; i < late+5; i++ {
			f.dir.recs[i].Cards = []string{"C00000"}
		}
		if r := f.mustRun(t, Options{}); r.Failed != 5 || f.store.cardLookups != 0 {
			t.Fatalf("first sync: %s, %d lookups of the user base, want 5 failed and none", counts(r), f.store.cardLookups)
		}
		r := f.mustRun(t, Options{})
		if r.Failed != 5 || f.store.cardLookups != 1 {
			t.Fatalf("%s, %d lookups of the user base, want 5 failed and 1", counts(r), f.store.cardLookups)
		}
		for _, ee := range r.EntryErrors {
			if !strings.Contains(ee.Message, "held by both user0 and") {
				t.Errorf("error: %s", ee.Message)
			}
		}
	})
	t.Run("nowhere: the message says how to find it", func(t *testing.T) {
		// user0's card went from the user base behind roster's back
		// (its fingerprint kept): user0 looks unchanged, and nothing
		// names it; the message still says what happened.
		f := newFixture(3)
		f.mustRun(t, Options{})
		f.store.byLogin("user0").Cards = nil
		f.dir.recs[2].Cards = []string{"C00000"}
		r := f.mustRun(t, Options{})
		if r.Failed != 1 || !strings.Contains(r.EntryErrors[0].Message, "card C00000 is also listed by an earlier entry of the directory, which keeps it, and user2 gets no such card") {
			t.Fatalf("%s, errors %+v", counts(r), r.EntryErrors)
		}
	})
	t.Run("skipped as disabled", func(t *testing.T) {
		f := newFixture(late + 1)
		f.src.DisabledUsers = roster.SkipDisabled
		f.dir.recs[0].Disabled = true
		f.dir.recs[late].Cards = []string{"C00000"}
		r := f.mustRun(t, Options{})
		want(t, r, fmt.Sprintf("user%d", late))
		if r.Skipped != 1 || f.store.byLogin("user0") != nil {
			t.Fatalf("user0 was not skipped: %s", counts(r))
		}
	})
}

func TestAStoreCardConflictKeepsTheCardsButNotTheChange(t *testing.T) {
	f := newFixture(6)
	f.store.conflictCard = "C00004"
	r := f.mustRun(t, Options{})
	if r.Created != 6 || r.Failed != 1 || !strings.Contains(r.EntryErrors[0].Message, "belongs to someone else") {
		t.Fatalf("%s, errors %+v", counts(r), r.EntryErrors)
	}
	if u := f.store.byLogin("user4"); u == nil || hasCard(u, "C00004") {
		t.Fatal("user4 should exist, without the contested card")
	}
	// A disable must still happen when the entry's card is contested.
	f.dir.recs[4].Disabled = true
	r = f.mustRun(t, Options{})
	if r.Disabled != 1 || !f.store.byLogin("user4").Disabled {
		t.Fatalf("the disable was lost with the card: %s", counts(r))
	}
}

// A write refused because the sync lost its source's lease is a
// conflict too (ECONFLICT), but of every change: the run stops at the
// first, instead of retrying each change alone, twice, and blaming each
// entry for it.
func TestALostLeaseStopsTheRunAtItsFirstWrite(t *testing.T) {
	f := newFixture(6)
	f.store.failOn = "Apply"
	f.store.failWith = &roster.Error{Code: roster.ECONFLICT, Op: "RenewLease", Err: roster.ErrLeaseLost,
		Message: "the roster node n1 lost its lease of the source corp; this sync stops"}
	r, err := f.run(t, Options{})
	if !errors.Is(err, roster.ErrLeaseLost) {
		t.Fatalf("Run: %v, want the lost lease", err)
	}
	if n := f.store.calls["Apply"]; n != 1 {
		t.Errorf("Apply was called %d times, want once", n)
	}
	if r != nil && r.Run != nil && (len(r.Run.EntryErrors) != 0 || r.Run.Failed != 0) {
		t.Errorf("the lost lease was blamed on entries: %d failed, %+v", r.Run.Failed, r.Run.EntryErrors)
	}
}

// A bad entry is not a departed user: whatever is wrong with it, a user
// the directory still returns is never removed.
func TestBadEntriesOfExistingUsersRemoveNobody(t *testing.T) {
	f := newFixture(30)
	f.src.Removal = roster.RemovalPolicy{Delete: true}
	f.mustRun(t, Options{})
	f.dir.recs[1].Name = strings.Repeat("x", 5000)                                               // oversized
	f.dir.recs[2].Login = ""                                                                     // login attribute cleared
	f.dir.recs[3].Login = "user4"                                                                // collides with user4
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "new", DN: "CN=New", Login: "user20"}) // takes a login in use
	r := f.mustRun(t, Options{})
	if r.Disabled != 0 || r.Deleted != 0 || r.Failed != 5 { // the user3/user4 clash skips both entries
		t.Fatalf("%s, errors %+v", counts(r), r.EntryErrors)
	}
	for _, l := range []string{"user1", "user2", "user3", "user20"} {
		if u := f.store.byLogin(l); u == nil || u.Disabled {
			t.Errorf("%s was removed or disabled because of a bad entry", l)
		}
	}
}

func TestAnAdminsDisableSurvivesLeavingAndComingBack(t *testing.T) {
	f := newFixture(30)
	f.mustRun(t, Options{})
	u := f.store.byLogin("user5")
	u.Disabled, u.DisabledReason = true, roster.DisabledByAdmin
	gone := f.dir.recs[5]
	f.dir.recs = append(f.dir.recs[:5], f.dir.recs[6:]...)
	f.mustRun(t, Options{})
	if u := f.store.byLogin("user5"); u.DisabledReason != roster.DisabledByAdmin {
		t.Fatalf("reason %q after leaving, want admin", u.DisabledReason)
	}
	f.dir.recs = append(f.dir.recs, gone)
	f.mustRun(t, Options{})
	if u := f.store.byLogin("user5"); !u.Disabled {
		t.Fatal("a sync re-enabled a user an admin had disabled")
	}
}

// Users created in the run do not dilute the threshold, and the dry run
// holds exactly what the real run holds.
func TestThresholdBaseIgnoresUsersCreatedInTheRun(t *testing.T) {
	f := newFixture(200)
	f.mustRun(t, Options{})
	more := people(400)[200:]
	for i := range more {
		more[i].Anchor, more[i].Login = "new-"+more[i].Anchor, "new"+more[i].Login
		more[i].Cards = nil
	}
	f.dir.recs = append(f.dir.recs[19:], more...) // 19 of 200 leave (9.5%), 200 arrive
	dry, err := f.run(t, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	r := f.mustRun(t, Options{})
	if dry.Run.Held != 19 || r.Held != 19 || r.Disabled != 0 {
		t.Fatalf("dry run held %d; real run: %s", dry.Run.Held, counts(r))
	}
}

func TestApprovalNeverDeletesAtOnce(t *testing.T) {
	f := newFixture(100)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[:80]
	if r := f.mustRun(t, Options{}); r.Held != 20 {
		t.Fatalf("%s", counts(r))
	}
	f.src.Removal = roster.RemovalPolicy{Delete: true} // switched to delete, no grace
	r := f.mustRun(t, Options{ApproveRemovals: true})
	if r.Deleted != 0 || r.Disabled != 20 {
		t.Fatalf("approval: %s, want 20 disables and no delete", counts(r))
	}
}

func TestAMissingScopeGroupFailsTheRun(t *testing.T) {
	f := newFixture(30)
	f.mustRun(t, Options{})
	f.src.GroupScope = []string{"CN=Typo,DC=corp,DC=test"}
	res, err := f.run(t, Options{})
	if err == nil || res.Run.Disabled != 0 || !strings.Contains(res.Run.Error, "CN=Typo,DC=corp,DC=test was not found") {
		t.Fatalf("Run() = %v, %s", err, counts(res.Run))
	}
}

func TestPrintCodesAreHashedAndNeverShown(t *testing.T) {
	f := newFixture(2)
	f.dir.recs[0].PrintCode = "4711"
	res, err := f.run(t, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Changes {
		for _, fc := range ch.Fields {
			if strings.Contains(fc.Before+fc.After, "4711") {
				t.Fatalf("the plan shows the print code: %+v", fc)
			}
		}
	}
	f.mustRun(t, Options{})
	if got := f.store.byLogin("user0").PrintCodeHash; got != "h:4711" {
		t.Fatalf("stored %q, want the keyed hash", got)
	}
}

func TestALocalPrintCodeSurvivesWhenTheDirectoryHasNone(t *testing.T) {
	f := newFixture(2)
	f.mustRun(t, Options{})
	f.store.byLogin("user1").PrintCodeHash = "h:local"
	if r := f.mustRun(t, Options{}); r.Updated != 0 || f.store.byLogin("user1").PrintCodeHash != "h:local" {
		t.Fatalf("%s; code %q", counts(r), f.store.byLogin("user1").PrintCodeHash)
	}
	f.dir.recs[1].PrintCode = "9999"
	// The update carries the code it was planned from: the store writes
	// the new one only over it, not over one an admin set meanwhile.
	if res, err := f.run(t, Options{DryRun: true}); err != nil || len(res.Changes) != 1 || res.Changes[0].PrintCodeWas != "h:local" {
		t.Fatalf("the planned update: %+v, %v", res.Changes, err)
	}
	if r := f.mustRun(t, Options{}); r.Updated != 1 || f.store.byLogin("user1").PrintCodeHash != "h:9999" {
		t.Fatalf("a code in the directory must win: %s", counts(r))
	}
}

// A dry run that hands its plan out (Options.Plan) keeps none of it, and
// hands out what it would keep: creates, updates, removals and the held
// ones, in order. An error from Plan ends the run.
func TestADryRunHandsItsPlanOutAsItGoes(t *testing.T) {
	f := newFixture(200)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[40:] // 40 of 200 leave: past the threshold, held
	f.dir.recs[0].Name = "Renamed Person"
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "new", DN: "CN=New", Login: "newcomer", Name: "New Comer"})
	kept, err := f.run(t, Options{DryRun: true})
	if err != nil || kept.Run.Held != 40 || kept.Run.Created != 1 || kept.Run.Updated != 1 || len(kept.Changes) != 42 {
		t.Fatalf("the kept plan: %v, %s, %d changes", err, counts(kept.Run), len(kept.Changes))
	}
	var handed []roster.Change
	calls := 0
	res, err := f.run(t, Options{DryRun: true, Plan: func(changes []roster.Change) error {
		calls++
		handed = append(handed, changes...)
		return nil
	}})
	if err != nil || res.Changes != nil || calls < 2 || !reflect.DeepEqual(handed, kept.Changes) || counts(res.Run) != counts(kept.Run) {
		t.Fatalf("handed out in %d calls: %d changes (%v), kept %d; %s", calls, len(handed), err, len(res.Changes), counts(res.Run))
	}
	if len(res.Held) != 40 || handed[len(handed)-1].Kind != roster.Disable {
		t.Fatalf("the held removals: %d kept whole, the last change handed out is a %s", len(res.Held), handed[len(handed)-1].Kind)
	}

	full := errors.New("disk full")
	res, err = f.run(t, Options{DryRun: true, Plan: func([]roster.Change) error { return full }})
	if !errors.Is(err, full) || res.Run.Status != roster.RunFailed {
		t.Fatalf("a Plan that fails: %v, %s", err, res.Run.Status)
	}
	if len(f.store.runs) != 1 || f.store.byLogin("newcomer") != nil {
		t.Fatal("a dry run wrote")
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	f := newFixture(5)
	res, err := f.run(t, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 5 || res.Changes[0].Kind != roster.Create || len(f.store.users) != 0 || len(f.store.runs) != 0 || f.store.applies != 0 {
		t.Fatalf("%d changes, %d users, %d runs, %d applies", len(res.Changes), len(f.store.users), len(f.store.runs), f.store.applies)
	}
	// The plan shows what each new user would hold.
	for _, ch := range res.Changes {
		fields := map[string]string{}
		for _, fc := range ch.Fields {
			fields[fc.Field] = fc.After
		}
		if fields["login"] != ch.Login || fields["name"] != ch.User.Name || fields["name"] == "" {
			t.Fatalf("the plan creates %s with fields %+v; want its login and name", ch.Login, ch.Fields)
		}
	}
}

func TestGroupScope(t *testing.T) {
	f := newFixture(6)
	f.dir.groups = []roster.GroupRecord{{DN: "CN=Printing,DC=corp,DC=test", MemberDNs: []string{f.dir.recs[1].DN, strings.ToUpper(f.dir.recs[4].DN)}}}
	f.src.GroupScope = []string{"cn=printing,dc=corp,dc=test"}
	r := f.mustRun(t, Options{})
	if r.Created != 2 || r.Skipped != 4 || f.store.byLogin("user1") == nil || f.store.byLogin("user4") == nil {
		t.Fatalf("%s", counts(r))
	}
}

func TestCancelledRunIsRecordedAsCancelled(t *testing.T) {
	f := newFixture(10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := &Engine{Store: f.store, Now: func() time.Time { return f.now }, HashCode: func(c string) string { return c }}
	res, err := e.Run(ctx, f.src, 1, f.dir, Options{})
	if !errors.Is(err, context.Canceled) || res.Run.Status != roster.RunCancelled {
		t.Fatalf("Run() = %v, status %s", err, res.Run.Status)
	}
}

// A login freed by a rename can go to a new person: former logins are
// aliases, not owners.
func TestAFreedLoginCanBeTakenByANewUser(t *testing.T) {
	f := newFixture(3)
	f.mustRun(t, Options{})
	f.dir.recs[0].Login = "renamed0"
	f.mustRun(t, Options{})
	f.dir.recs = append(f.dir.recs, roster.Record{Anchor: "anchor-new", DN: "CN=New,DC=corp,DC=test", Login: "user0", Name: "New user0"})
	r := f.mustRun(t, Options{})
	if r.Created != 1 || r.Failed != 0 || f.store.byLogin("user0").Anchor != "anchor-new" {
		t.Fatalf("%s, errors %+v", counts(r), r.EntryErrors)
	}
}

// adminMidRemovals is a store where an admin disables a user between the
// removal check's read of the states and its load of the users.
type adminMidRemovals struct {
	*memStore
	login   string
	scanned bool
}

func (s *adminMidRemovals) UserStates(ctx context.Context, source int64, fn func(roster.UserState) error) error {
	s.scanned = true
	return s.memStore.UserStates(ctx, source, fn)
}

func (s *adminMidRemovals) UsersByAnchor(ctx context.Context, source int64, anchors []string) (map[string]*roster.User, error) {
	if s.scanned {
		u := s.byLogin(s.login)
		u.Disabled, u.DisabledReason = true, roster.DisabledByAdmin
	}
	return s.memStore.UsersByAnchor(ctx, source, anchors)
}

// A user an admin disables while the run removes others keeps the
// admin's reason: the removal acts only on users still as it read them.
func TestARemovalLeavesAUserTheAdminChangedMeanwhile(t *testing.T) {
	f := newFixture(100)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[:95] // user95 to user99 gone: under the threshold
	store := &adminMidRemovals{memStore: f.store, login: "user97"}
	e := &Engine{Store: store, Now: func() time.Time { return f.now }, HashCode: func(c string) string { return "h:" + c }}
	res, err := e.Run(context.Background(), f.src, 1, f.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Run; r.Disabled != 4 || r.Status != roster.RunSucceeded {
		t.Fatalf("%s, status %s", counts(r), r.Status)
	}
	if u := f.store.byLogin("user97"); u.DisabledReason != roster.DisabledByAdmin {
		t.Fatalf("user97, disabled by an admin during the removals, is now %+v", u)
	}
	if u := f.store.byLogin("user96"); !u.Disabled || u.DisabledReason != roster.DisabledMissing {
		t.Fatalf("user96 is %+v, want disabled as missing", u)
	}
}
