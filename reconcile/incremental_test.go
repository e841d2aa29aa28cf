package reconcile

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// usnDir is a memDir that tracks changes as AD does: each record has the
// USN of its last change, and the directory stands at the highest one.
type usnDir struct {
	memDir
	server   string
	usn      map[string]int64 // anchor -> uSNChanged
	top      int64
	failNext bool // Changed fails, as a cut connection would
	reads    int  // records Changed returned
	groupUSN int64
	groupRds int              // calls of Groups
	deleted  map[string]int64 // anchor -> USN of its deletion, as Deleted Objects shows it
}

// remove deletes the record with this anchor, as AD does: it leaves the
// search results and shows up among the deleted objects.
func (d *usnDir) remove(anchor string) {
	for i, r := range d.recs {
		if r.Anchor == anchor {
			d.recs = append(d.recs[:i], d.recs[i+1:]...)
			break
		}
	}
	d.top++
	if d.deleted == nil {
		d.deleted = map[string]int64{}
	}
	d.deleted[anchor] = d.top
}

func (d *usnDir) Deleted(_ context.Context, since roster.Cursor) ([]string, error) {
	from, err := strconv.ParseInt(since.Value, 10, 64)
	var out []string
	for a, usn := range d.deleted {
		if usn > from {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, err
}

func (d *usnDir) Groups(ctx context.Context) ([]roster.GroupRecord, error) {
	d.groupRds++
	return d.memDir.Groups(ctx)
}

func (d *usnDir) GroupsChanged(_ context.Context, since roster.Cursor) (bool, error) {
	from, err := strconv.ParseInt(since.Value, 10, 64)
	return d.groupUSN > from, err
}

func newUSNDir(n int) *usnDir {
	d := &usnDir{memDir: memDir{recs: people(n)}, server: "CN=NTDS Settings,CN=DC1|inv-1", usn: map[string]int64{}}
	for _, r := range d.recs {
		d.touch(r.Anchor)
	}
	return d
}

func (d *usnDir) touch(anchor string) {
	d.top++
	d.usn[anchor] = d.top
}

func (d *usnDir) Mark(context.Context) (roster.Cursor, error) {
	return roster.Cursor{Kind: roster.CursorUSN, Server: d.server, Value: strconv.FormatInt(d.top, 10)}, nil
}

func (d *usnDir) Changed(ctx context.Context, since roster.Cursor, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	if d.failNext {
		d.failNext = false
		return &roster.Error{Code: roster.EUNAVAILABLE, Message: "the connection to the directory was cut"}
	}
	from, err := strconv.ParseInt(since.Value, 10, 64)
	if err != nil {
		return err
	}
	var out []roster.Record
	for _, r := range d.recs {
		if d.usn[r.Anchor] > from {
			out = append(out, r)
		}
	}
	d.reads += len(out)
	if len(out) == 0 {
		return nil
	}
	return page(out)
}

func (f *fixture) runOn(t *testing.T, d Directory, opt Options) (*roster.Run, error) {
	t.Helper()
	e := &Engine{Store: f.store, Now: func() time.Time { return f.now }, HashCode: func(c string) string { return "h:" + c }}
	res, err := e.Run(context.Background(), f.src, 1, d, opt)
	if res == nil {
		t.Fatalf("Run returned no result: %v", err)
	}
	return res.Run, err
}

func TestIncrementalWithoutACursorRunsFullAndLeavesOne(t *testing.T) {
	f, d := newFixture(0), newUSNDir(6)
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != roster.RunFull || r.Created != 6 || !strings.Contains(strings.Join(r.Notes, "\n"), "no earlier successful run") {
		t.Fatalf("mode %s, %s, notes %q", r.Mode, counts(r), r.Notes)
	}
	if f.store.cursor.Value != "6" || f.store.cursor.Server != d.server {
		t.Fatalf("cursor after the full run: %+v", f.store.cursor)
	}
}

func TestIncrementalReadsOnlyChangesAndRemovesNobody(t *testing.T) {
	f, d := newFixture(0), newUSNDir(10)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	// One user changes, one is new, and one is gone: an incremental run
	// does not see deletions, and must not take "not returned" for gone.
	d.recs[3].Name = "Changed Name"
	d.touch(d.recs[3].Anchor)
	extra := people(11)[10]
	d.recs = append(d.recs[:9], extra)
	d.touch(extra.Anchor)
	d.reads = 0
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != roster.RunIncremental || r.Seen != 2 || r.Updated != 1 || r.Created != 1 || r.Disabled != 0 || r.Deleted != 0 {
		t.Fatalf("mode %s, %s", r.Mode, counts(r))
	}
	if d.reads != 2 || f.store.byLogin("user3").Name != "Changed Name" || f.store.byLogin("user9").Disabled {
		t.Fatalf("reads %d, user3 %q, user9 disabled %v", d.reads, f.store.byLogin("user3").Name, f.store.byLogin("user9").Disabled)
	}
	if f.store.cursor.Value != "12" {
		t.Fatalf("cursor %+v, want 12", f.store.cursor)
	}
	// The next full run finds the departed user.
	if r, _ = f.runOn(t, d, Options{}); r.Disabled != 1 {
		t.Fatalf("full run after: %s", counts(r))
	}
}

func TestAFailedIncrementalRunKeepsTheCursor(t *testing.T) {
	f, d := newFixture(0), newUSNDir(5)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	d.recs[1].Name = "Changed"
	d.touch(d.recs[1].Anchor)
	d.failNext = true
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err == nil || r.Status != roster.RunFailed || f.store.cursor.Value != "5" {
		t.Fatalf("err %v, status %s, cursor %+v: want a failed run and the cursor still at 5", err, r.Status, f.store.cursor)
	}
	// The change is read again by the next run.
	if r, err = f.runOn(t, d, Options{Incremental: true}); err != nil || r.Updated != 1 || f.store.cursor.Value != "6" {
		t.Fatalf("retry: %v, %s, cursor %+v", err, counts(r), f.store.cursor)
	}
}

func TestIncrementalReadsInFullOnAnotherDomainControllerAndRemovesNobody(t *testing.T) {
	f, d := newFixture(0), newUSNDir(4)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	d.server = "CN=NTDS Settings,CN=DC2|inv-9"
	d.recs = d.recs[:3] // the full run this forces may find users gone
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	// Read in full, yet "changes only" removes nobody: the departed
	// user waits for a full sync.
	if r.Mode != roster.RunFull || r.Seen != 3 || r.Disabled != 0 || !strings.Contains(strings.Join(r.Notes, "\n"), "domain controller") {
		t.Fatalf("mode %s, %s, notes %q", r.Mode, counts(r), r.Notes)
	}
	if r, _ = f.runOn(t, d, Options{}); r.Disabled != 1 {
		t.Fatalf("the full run after: %s", counts(r))
	}
	if f.store.cursor.Server != d.server {
		t.Fatalf("cursor %+v not moved to the new DC", f.store.cursor)
	}
}

func TestIncrementalOnADirectoryWithoutTrackingRunsFull(t *testing.T) {
	f := newFixture(3)
	r := f.mustRun(t, Options{Incremental: true})
	if r.Mode != roster.RunFull || r.Created != 3 || !strings.Contains(strings.Join(r.Notes, "\n"), "no change tracking") {
		t.Fatalf("mode %s, %s, notes %q", r.Mode, counts(r), r.Notes)
	}
	if !f.store.cursor.IsZero() {
		t.Fatalf("a cursor was saved: %+v", f.store.cursor)
	}
}

func TestAPreviewSavesNoCursor(t *testing.T) {
	f, d := newFixture(0), newUSNDir(3)
	if _, err := f.runOn(t, d, Options{DryRun: true, Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if !f.store.cursor.IsZero() {
		t.Fatalf("a dry run saved a cursor: %+v", f.store.cursor)
	}
}

func TestIncrementalReadsTheGroupsOnlyWhenOneChanged(t *testing.T) {
	f, d := newFixture(0), newUSNDir(4)
	d.groups = []roster.GroupRecord{{DN: "CN=Print,DC=corp,DC=test", Anchor: "g1", Name: "print", MemberDNs: []string{d.recs[0].DN}}}
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	if d.groupRds != 1 || len(f.store.groups) != 1 {
		t.Fatalf("full run: %d group reads, %d groups stored", d.groupRds, len(f.store.groups))
	}
	f.store.groups = nil
	if _, err := f.runOn(t, d, Options{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if d.groupRds != 1 || f.store.groups != nil {
		t.Fatalf("no group changed, yet %d group reads and groups stored %v", d.groupRds, f.store.groups)
	}
	d.groups[0].MemberDNs = append(d.groups[0].MemberDNs, d.recs[1].DN)
	d.top++
	d.groupUSN = d.top
	if _, err := f.runOn(t, d, Options{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if d.groupRds != 2 || len(f.store.groups) != 1 || len(f.store.groups[0].MemberDNs) != 2 {
		t.Fatalf("a changed group: %d group reads, stored %v", d.groupRds, f.store.groups)
	}
}

func TestIncrementalDisablesTheUsersTheDirectoryReportsDeleted(t *testing.T) {
	f, d := newFixture(0), newUSNDir(40)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	admin := f.store.byLogin("user7")
	admin.Disabled, admin.DisabledReason = true, roster.DisabledByAdmin
	d.remove(d.recs[5].Anchor)  // user5
	d.remove(d.recs[6].Anchor)  // user7: the admin's disable stands
	d.remove("anchor-not-ours") // another source's, or never synced
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != roster.RunIncremental || r.Disabled != 1 || r.Status != roster.RunSucceeded {
		t.Fatalf("mode %s, status %s, %s; want user5 disabled", r.Mode, r.Status, counts(r))
	}
	if u := f.store.byLogin("user5"); !u.Disabled || u.DisabledReason != roster.DisabledMissing {
		t.Fatalf("user5: %+v", u)
	}
	if u := f.store.byLogin("user7"); u.DisabledReason != roster.DisabledByAdmin {
		t.Fatalf("user7's admin disable was overwritten: %+v", u)
	}
	if n := len(f.store.users); n != 40 {
		t.Fatalf("%d users stored, want all 40 kept", n)
	}

	// A mass deletion is held, as in a full run.
	for i := 0; i < 20; i++ {
		d.remove(d.recs[10].Anchor)
	}
	r, err = f.runOn(t, d, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != roster.RunHeld || r.Held != 20 || r.Disabled != 0 {
		t.Fatalf("mass deletion: status %s, %s; want 20 held", r.Status, counts(r))
	}
}

// failingMark is a directory whose change tracking cannot be read, for
// the reason err gives.
type failingMark struct {
	*usnDir
	err error
}

func (d failingMark) Mark(context.Context) (roster.Cursor, error) { return roster.Cursor{}, d.err }

func TestAFullRunGoesOnWhenTheCursorCannotBeRead(t *testing.T) {
	f, d := newFixture(0), newUSNDir(3)
	forbidden := &roster.Error{Code: roster.EFORBIDDEN, Message: "the account may not read the contextCSN"}
	r, err := f.runOn(t, failingMark{d, forbidden}, Options{})
	if err != nil || r.Created != 3 || !strings.Contains(strings.Join(r.Notes, "\n"), "no cursor was saved") || !f.store.cursor.IsZero() {
		t.Fatalf("err %v, %s, notes %q, cursor %+v", err, counts(r), r.Notes, f.store.cursor)
	}
	r, err = f.runOn(t, failingMark{d, forbidden}, Options{Incremental: true})
	if err == nil {
		t.Fatal("an incremental run without its cursor succeeded")
	}
	if r.Mode != roster.RunIncremental {
		t.Errorf("an incremental run that failed on its mark is recorded as %s", r.Mode)
	}
}

func TestALostConnectionWhileReadingTheMarkFailsAFullRunWithItsReason(t *testing.T) {
	f, d := newFixture(0), newUSNDir(3)
	lost := &roster.Error{Code: roster.EUNAVAILABLE, Message: "the directory did not answer the read of the root DSE within 1s"}
	r, err := f.runOn(t, failingMark{d, lost}, Options{})
	if err == nil || r.Status != roster.RunFailed || r.Error != lost.Message || r.Created != 0 {
		t.Fatalf("err %v, run %s %q, %s; want failed with the mark's reason", err, r.Status, r.Error, counts(r))
	}
}

func TestIncrementalWithAGroupScopeReadsEveryoneWhenAGroupChanged(t *testing.T) {
	f, d := newFixture(0), newUSNDir(5)
	scope := "CN=Print,DC=corp,DC=test"
	f.src.GroupScope = []string{scope}
	d.groups = []roster.GroupRecord{{DN: scope, Anchor: "g1", Name: "print", MemberDNs: []string{d.recs[0].DN}}}
	if r, err := f.runOn(t, d, Options{}); err != nil || r.Created != 1 {
		t.Fatalf("full run: %v, %s", err, counts(r))
	}
	// user1 joins the scope group: its own entry does not change.
	d.groups[0].MemberDNs = append(d.groups[0].MemberDNs, d.recs[1].DN)
	d.top++
	d.groupUSN = d.top
	r, err := f.runOn(t, d, Options{Incremental: true})
	if err != nil || r.Created != 1 || f.store.byLogin("user1") == nil || r.Disabled != 0 {
		t.Fatalf("%v, %s, notes %q: want user1 created", err, counts(r), r.Notes)
	}
	// Nothing changed since: changes only again.
	d.reads = 0
	if r, err = f.runOn(t, d, Options{Incremental: true}); err != nil || r.Seen != 0 || d.reads != 0 {
		t.Fatalf("unchanged: %v, %s", err, counts(r))
	}
}

// lostDir is a usnDir whose change tracking is lost by the next Changed,
// as a Graph delta link expires.
type lostDir struct{ *usnDir }

func (d lostDir) Changed(context.Context, roster.Cursor, func([]roster.Record) error, func(roster.EntryError) error) error {
	return &roster.Error{Code: roster.EUNAVAILABLE, Message: "the delta link expired", Err: roster.ErrChangesLost}
}

// An incremental run whose directory can no longer say what changed
// reads every entry and is a full run: a user gone meanwhile is removed,
// which an incremental read could not have found, and the notes say why.
func TestIncrementalWhoseChangesAreLostRunsFull(t *testing.T) {
	f, d := newFixture(0), newUSNDir(10)
	if _, err := f.runOn(t, d, Options{}); err != nil {
		t.Fatal(err)
	}
	gone := d.recs[4].Anchor
	d.recs = append(d.recs[:4], d.recs[5:]...) // gone without a trace in Deleted
	d.top++
	groupReads := d.groupRds
	r, err := f.runOn(t, lostDir{d}, Options{Incremental: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != roster.RunFull || r.Seen != 9 || r.Disabled != 1 || !strings.Contains(strings.Join(r.Notes, "\n"), "the delta link expired") {
		t.Fatalf("mode %s, %s, notes %q", r.Mode, counts(r), r.Notes)
	}
	if u := f.store.byAnchor(gone); u == nil || !u.Disabled {
		t.Errorf("the user gone meanwhile: %+v", u)
	}
	if d.groupRds != groupReads+1 {
		t.Errorf("the groups were read %d times; a full run reads them", d.groupRds-groupReads)
	}
}
