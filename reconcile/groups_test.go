package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// groupsOf returns n groups; group i has users i and i+1 of recs.
func groupsOf(recs []roster.Record, n int) []roster.GroupRecord {
	out := make([]roster.GroupRecord, n)
	for i := range out {
		out[i] = roster.GroupRecord{Anchor: fmt.Sprintf("g-%02d", i), DN: fmt.Sprintf("CN=Group%02d,DC=corp,DC=test", i),
			Name: fmt.Sprintf("group%02d", i), MemberDNs: []string{recs[i%len(recs)].DN, recs[(i+1)%len(recs)].DN}}
	}
	return out
}

// groupFixture is a source of users users in 20 groups (40 memberships),
// synced once in full, which left the cursor at the directory's mark.
func groupFixture(t *testing.T, users int) (*fixture, *usnDir) {
	t.Helper()
	f, d := newFixture(0), newUSNDir(users)
	d.groups = groupsOf(d.recs, 20)
	if r, err := f.runOn(t, d, Options{}); err != nil || r.Status != roster.RunSucceeded || len(f.store.groups) != 20 {
		t.Fatalf("first run: %v, status %s, %d groups stored", err, r.Status, len(f.store.groups))
	}
	return f, d
}

// changeGroups changes the directory's groups as a day does: group00
// goes, group01 gains a member, and the directory's mark moves on.
func changeGroups(d *usnDir) {
	d.groups = append([]roster.GroupRecord(nil), d.groups[1:]...)
	d.groups[0].MemberDNs = append(append([]string(nil), d.groups[0].MemberDNs...), d.recs[25].DN)
	d.top++
	d.groupUSN = d.top
}

func notes(r *roster.Run) string { return strings.Join(r.Notes, "\n") }

// A run removes groups and memberships only when its user removals go
// ahead, its groups search returned something, and they stay under the
// removal threshold or are approved; it adds and updates all the same.
func TestGroupRemovalsFollowTheUsers(t *testing.T) {
	tests := []struct {
		name    string
		change  func(f *fixture, d *usnDir)
		opt     Options
		status  roster.RunStatus
		groups  int    // stored after the run
		state   string // part of the stored groups, when not empty
		added   bool   // group01 gained its new member
		note    string
		cursor  bool // the run saved the mark
		written bool // the run wrote the groups
	}{
		{
			name:   "a day's changes go through",
			change: func(f *fixture, d *usnDir) { changeGroups(d) },
			status: roster.RunSucceeded, groups: 19, added: true, cursor: true, written: true,
		},
		{
			name:   "a groups search that returns nothing removes no group, and saves no cursor",
			change: func(f *fixture, d *usnDir) { d.groups = nil; d.top++ },
			status: roster.RunSucceeded, groups: 20, note: "the directory returned no groups, though the source has 20", written: true,
		},
		{
			name:   "an empty user result removes no group nor membership",
			change: func(f *fixture, d *usnDir) { changeGroups(d); d.recs = nil },
			status: roster.RunSucceeded, groups: 20, state: "group00: CN=U0,", added: true, note: "1 groups and 2 memberships the directory no longer returns were kept, as the directory returned no users",
			written: true,
		},
		{
			name: "held user removals hold the group removals, not the additions",
			change: func(f *fixture, d *usnDir) {
				changeGroups(d)
				d.recs = d.recs[:80]
			},
			status: roster.RunHeld, groups: 20, added: true, note: "kept, as the users' removals are held", cursor: true, written: true,
		},
		{
			name:   "a dry run writes no group",
			change: func(f *fixture, d *usnDir) { changeGroups(d) },
			opt:    Options{DryRun: true},
			status: roster.RunSucceeded, groups: 20, note: "planned for the groups: 0 groups added, 0 updated, 1 removed; 1 memberships added, 2 removed (groups removed: group00)",
		},
		{
			name: "an incremental request read in full removes no group",
			change: func(f *fixture, d *usnDir) {
				changeGroups(d)
				d.server = "CN=NTDS Settings,CN=DC2|inv-9"
			},
			opt:    Options{Incremental: true},
			status: roster.RunSucceeded, groups: 20, added: true, note: "kept, as this run removed nobody", cursor: true, written: true,
		},
		{
			name:   "an incremental run reads the groups that changed and may remove them",
			change: func(f *fixture, d *usnDir) { changeGroups(d) },
			opt:    Options{Incremental: true},
			status: roster.RunSucceeded, groups: 19, added: true, cursor: true, written: true,
		},
		{
			name: "group removals over the threshold are held, with the first names",
			change: func(f *fixture, d *usnDir) {
				d.groups = d.groups[12:]
				d.top++
			},
			status: roster.RunHeld, groups: 20,
			note:   "12 of 20 groups and 24 of 40 memberships would be removed, more than the threshold (5% and 10): the group removals are held, while groups and members were added and updated (groups removed: group00, group01, group02, group03, group04 and 7 more)",
			cursor: true, written: true,
		},
		{
			name: "membership removals over the threshold are held",
			change: func(f *fixture, d *usnDir) {
				for i := 0; i < 6; i++ {
					d.groups[i].MemberDNs = nil
				}
				d.top++
			},
			status: roster.RunHeld, groups: 20, state: "group00: CN=U0,", note: "0 of 20 groups and 12 of 40 memberships would be removed", cursor: true, written: true,
		},
		{
			name: "an approval with no held run holds group removals over the threshold, as any run",
			change: func(f *fixture, d *usnDir) {
				d.groups = d.groups[12:]
				d.top++
			},
			opt:    Options{ApproveRemovals: true},
			status: roster.RunHeld, groups: 20, note: "no held run waits for approval: the group removals met the removal threshold as in any run",
			cursor: true, written: true,
		},
		{
			name:   "an approval with no held run removes groups under the threshold, as any run",
			change: func(f *fixture, d *usnDir) { changeGroups(d) },
			opt:    Options{ApproveRemovals: true},
			status: roster.RunSucceeded, groups: 19, added: true, cursor: true, written: true,
		},
		{
			name: "an approval does not let an empty groups search remove",
			change: func(f *fixture, d *usnDir) {
				d.groups = nil
				d.top++
			},
			opt:    Options{ApproveRemovals: true},
			status: roster.RunSucceeded, groups: 20, note: "returned no groups", written: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d := groupFixture(t, 100)
			before, writes := f.store.cursor, f.store.groupWrites
			tt.change(f, d)
			r, err := f.runOn(t, d, tt.opt)
			if err != nil || r.Status != tt.status {
				t.Fatalf("Run: %v, status %s, want %s; notes %q", err, r.Status, tt.status, r.Notes)
			}
			state := f.store.groupState()
			if len(f.store.groups) != tt.groups || !strings.Contains(state, tt.state) {
				t.Errorf("%d groups stored, want %d; state %s, want it to hold %q", len(f.store.groups), tt.groups, state, tt.state)
			}
			if added := strings.Contains(state, "CN=U25,"); added != tt.added {
				t.Errorf("group01's new member added: %v, want %v", added, tt.added)
			}
			if !strings.Contains(notes(r), tt.note) {
				t.Errorf("notes\n%s\nwant one with %q", notes(r), tt.note)
			}
			if moved := f.store.cursor != before; moved != tt.cursor {
				t.Errorf("cursor %+v (before %+v): moved %v, want %v", f.store.cursor, before, moved, tt.cursor)
			}
			if wrote := f.store.groupWrites != writes; wrote != tt.written {
				t.Errorf("groups written %v, want %v", wrote, tt.written)
			}
			for _, u := range f.store.users {
				if u.Disabled && r.Status != roster.RunSucceeded {
					t.Fatalf("%s was disabled by a %s run", u.Login, r.Status)
				}
			}
		})
	}
}

// failingTracker is a usnDir whose change tracking fails where asked.
type failingTracker struct {
	*usnDir
	groupsChanged, deleted error
}

func (d failingTracker) GroupsChanged(ctx context.Context, since roster.Cursor) (bool, error) {
	if d.groupsChanged != nil {
		return false, d.groupsChanged
	}
	return d.usnDir.GroupsChanged(ctx, since)
}

func (d failingTracker) Deleted(ctx context.Context, since roster.Cursor) ([]string, error) {
	if d.deleted != nil {
		return nil, d.deleted
	}
	return d.usnDir.Deleted(ctx, since)
}

// A run that fails anywhere changes no group and no membership, saves no
// cursor, and removes nobody, however far it got.
func TestAFailedRunChangesNoGroupAndSavesNoCursor(t *testing.T) {
	cut := &roster.Error{Code: roster.EUNAVAILABLE, Message: "the connection to the directory was cut"}
	tests := []struct {
		name    string
		opt     Options
		fault   func(f *fixture, d *usnDir) Directory
		removed int // users disabled before the failure
	}{
		{"the groups search fails", Options{}, func(f *fixture, d *usnDir) Directory { d.groupsErr = cut; return d }, 0},
		{"the users search is cut after pages were applied", Options{}, func(f *fixture, d *usnDir) Directory { d.failAt = 3; return d }, 0},
		{"reading the stored users for the removals fails", Options{}, func(f *fixture, d *usnDir) Directory { f.store.failOn = "UserStates"; return d }, 0},
		{"counting the stored users fails", Options{}, func(f *fixture, d *usnDir) Directory { f.store.failOn = "CountUsers"; return d }, 0},
		{"writing the users fails", Options{}, func(f *fixture, d *usnDir) Directory { f.store.failOn = "Apply"; return d }, 0},
		{"planning the groups fails", Options{}, func(f *fixture, d *usnDir) Directory { f.store.failOn = "PlanGroups"; return d }, 0},
		// The user base failing to take the groups or the cursor, last
		// in the run, are the failures that come after the removals.
		{"writing the groups fails", Options{}, func(f *fixture, d *usnDir) Directory { f.store.failOn = "SyncGroups"; return d }, 1},
		{"asking whether a group changed fails", Options{Incremental: true}, func(f *fixture, d *usnDir) Directory {
			return failingTracker{usnDir: d, groupsChanged: cut}
		}, 0},
		{"reading the changes fails", Options{Incremental: true}, func(f *fixture, d *usnDir) Directory { d.failNext = true; return d }, 0},
		{"reading the deletions fails", Options{Incremental: true}, func(f *fixture, d *usnDir) Directory {
			return failingTracker{usnDir: d, deleted: cut}
		}, 0},
		{"saving the cursor alone fails", Options{Incremental: true}, func(f *fixture, d *usnDir) Directory {
			d.groupUSN = 0 // no group changed: the cursor is saved without them
			f.store.failOn = "SaveCursor"
			return d
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d := groupFixture(t, 30)
			before, groups := f.store.cursor, f.store.groupState()
			changeGroups(d)
			d.remove(d.recs[20].Anchor) // a leaver the run would disable
			d.recs[0].Name = "Changed"
			d.touch(d.recs[0].Anchor)
			r, err := f.runOn(t, tt.fault(f, d), tt.opt)
			if err == nil || r.Status != roster.RunFailed {
				t.Fatalf("Run: %v, status %s; want a failed run", err, r.Status)
			}
			if got := f.store.groupState(); got != groups {
				t.Errorf("groups changed by a failed run:\n%s\nwant\n%s", got, groups)
			}
			if f.store.cursor != before {
				t.Errorf("cursor %+v saved by a failed run; want %+v", f.store.cursor, before)
			}
			removed := 0
			for _, u := range f.store.users {
				if u.Disabled {
					removed++
				}
			}
			if removed != tt.removed {
				t.Errorf("%d users disabled by a failed run, want %d", removed, tt.removed)
			}
			want := "the run did not finish: nobody was disabled or deleted, no group or membership changed, and no cursor was saved"
			if tt.removed > 0 {
				want = fmt.Sprintf("the run did not finish: it had removed %d users the directory no longer returns, no group", tt.removed)
			}
			if !strings.Contains(notes(r), want) {
				t.Errorf("notes %q do not say %q", r.Notes, want)
			}
		})
	}
}

// Held group removals wait, run after run, until a run approves them.
func TestHeldGroupRemovalsGoOnApproval(t *testing.T) {
	f, d := groupFixture(t, 100)
	d.groups = d.groups[12:]
	for i := 0; i < 2; i++ {
		d.top++
		r, err := f.runOn(t, d, Options{})
		if err != nil || r.Status != roster.RunHeld || len(f.store.groups) != 20 {
			t.Fatalf("run %d: %v, status %s, %d groups stored; want held and 20", i+1, err, r.Status, len(f.store.groups))
		}
	}
	if last := f.store.runs[len(f.store.runs)-1]; last.HeldGroups != 12 || last.HeldMemberships != 24 {
		t.Fatalf("the held run counts %d groups and %d memberships held, want 12 and 24", last.HeldGroups, last.HeldMemberships)
	}
	r, err := f.runOn(t, d, Options{ApproveRemovals: true})
	if err != nil || r.Status != roster.RunSucceeded || len(f.store.groups) != 8 {
		t.Fatalf("approved: %v, status %s, %d groups stored; want 8", err, r.Status, len(f.store.groups))
	}
}

// The review's case: a run holds user removals and no group removal;
// before the admin approves, the account loses the right to read member
// lists. The approving run lets the held users go, but not the loss of
// every membership, which nobody reviewed: it is held.
func TestApprovingHeldUsersDoesNotLetEveryMembershipGo(t *testing.T) {
	f, d := groupFixture(t, 100)
	d.recs = d.recs[:70] // 30 users leave: more than the threshold
	d.top++
	held, err := f.runOn(t, d, Options{})
	if err != nil || held.Status != roster.RunHeld || held.Held != 30 || held.HeldGroups != 0 || held.HeldMemberships != 0 {
		t.Fatalf("run: %v, status %s, %s, %d groups and %d memberships held; want 30 users held and no group removal",
			err, held.Status, counts(held), held.HeldGroups, held.HeldMemberships)
	}
	before := f.store.groupState()
	for i := range d.groups {
		d.groups[i].MemberDNs = nil // member can no longer be read
	}
	d.top++
	r, err := f.runOn(t, d, Options{ApproveRemovals: true})
	if err != nil || r.Status != roster.RunHeld || r.Disabled != 30 {
		t.Fatalf("approval: %v, status %s, %s; want the 30 users disabled and the memberships held", err, r.Status, counts(r))
	}
	if got := f.store.groupState(); got != before {
		t.Errorf("the approval removed memberships nobody reviewed:\n%s\nwant\n%s", got, before)
	}
	if r.HeldGroups != 0 || r.HeldMemberships != 40 {
		t.Errorf("the approving run holds %d groups and %d memberships, want 0 and 40", r.HeldGroups, r.HeldMemberships)
	}
	want := fmt.Sprintf("the approval does not cover these group removals: run %d held no group or membership removals, so they met the removal threshold as in any run", held.ID)
	if !strings.Contains(notes(r), want) || !strings.Contains(notes(r), "0 of 20 groups and 40 of 40 memberships would be removed") {
		t.Errorf("notes\n%s\nwant %q and the threshold's note", notes(r), want)
	}
}

// An approval lets go the group removals the held run held, and no more:
// a run that would remove more groups or more memberships meets the
// threshold as any run, and is held again for its own approval.
func TestAnApprovalRemovesNoMoreGroupsThanWereHeld(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *usnDir, all []roster.GroupRecord) // after the hold, before the approval
		status roster.RunStatus
		groups int    // stored after the approval
		note   string // of the approving run
		// held again: the counts the approving run holds, and the groups
		// stored after a second approval
		heldGroups, heldMembers, again int
	}{
		{
			name:   "the removals held go",
			change: func(d *usnDir, all []roster.GroupRecord) {},
			status: roster.RunSucceeded, groups: 8,
			note: "group removals approved, within the 12 groups and 24 memberships run 2 held: 0 groups added, 0 updated, 12 removed; 0 memberships added, 24 removed",
		},
		{
			name:   "fewer removals than held go",
			change: func(d *usnDir, all []roster.GroupRecord) { d.groups = all[10:] },
			status: roster.RunSucceeded, groups: 10,
			note: "group removals approved, within the 12 groups and 24 memberships run 2 held: 0 groups added, 0 updated, 10 removed; 0 memberships added, 20 removed",
		},
		{
			name:   "more groups than held are held again",
			change: func(d *usnDir, all []roster.GroupRecord) { d.groups = all[16:] },
			status: roster.RunHeld, groups: 20,
			note:       "the approval does not cover these group removals: run 2 held 12 groups and 24 memberships, and this run would remove 16 groups and 32 memberships, so they met the removal threshold as in any run",
			heldGroups: 16, heldMembers: 32, again: 4,
		},
		{
			name: "more memberships than held are held again",
			change: func(d *usnDir, all []roster.GroupRecord) {
				d.groups = append([]roster.GroupRecord(nil), all[12:]...)
				d.groups[0].MemberDNs = nil
			},
			status: roster.RunHeld, groups: 20,
			note:       "run 2 held 12 groups and 24 memberships, and this run would remove 12 groups and 26 memberships",
			heldGroups: 12, heldMembers: 26, again: 8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, d := groupFixture(t, 100)
			all := append([]roster.GroupRecord(nil), d.groups...)
			d.groups = all[12:]
			d.top++
			if r, err := f.runOn(t, d, Options{}); err != nil || r.Status != roster.RunHeld || r.ID != 2 || r.HeldGroups != 12 || r.HeldMemberships != 24 {
				t.Fatalf("run: %v, status %s, ID %d, %d groups and %d memberships held; want run 2 holding 12 and 24", err, r.Status, r.ID, r.HeldGroups, r.HeldMemberships)
			}
			before := f.store.groupState()
			tt.change(d, all)
			d.top++
			r, err := f.runOn(t, d, Options{ApproveRemovals: true})
			if err != nil || r.Status != tt.status || len(f.store.groups) != tt.groups {
				t.Fatalf("approval: %v, status %s, %d groups stored; want %s and %d; notes %q", err, r.Status, len(f.store.groups), tt.status, tt.groups, r.Notes)
			}
			if !strings.Contains(notes(r), tt.note) {
				t.Errorf("notes\n%s\nwant one with %q", notes(r), tt.note)
			}
			if r.HeldGroups != tt.heldGroups || r.HeldMemberships != tt.heldMembers {
				t.Errorf("the approving run holds %d groups and %d memberships, want %d and %d", r.HeldGroups, r.HeldMemberships, tt.heldGroups, tt.heldMembers)
			}
			if tt.status != roster.RunHeld {
				return
			}
			if got := f.store.groupState(); got != before {
				t.Errorf("a run held again removed groups or memberships:\n%s\nwant\n%s", got, before)
			}
			d.top++
			r, err = f.runOn(t, d, Options{ApproveRemovals: true})
			if err != nil || r.Status != roster.RunSucceeded || len(f.store.groups) != tt.again {
				t.Fatalf("second approval: %v, status %s, %d groups stored; want %d; notes %q", err, r.Status, len(f.store.groups), tt.again, r.Notes)
			}
		})
	}
}
