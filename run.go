package roster

import "time"

// RunMode says how much of the directory a run reads.
type RunMode string

const (
	RunFull        RunMode = "full"        // every entry; the only mode that may find users gone
	RunIncremental RunMode = "incremental" // entries changed since the stored cursor
	RunPreview     RunMode = "preview"     // a full read that plans but writes nothing
	RunWriteBack   RunMode = "write-back"  // roster wrote a print code or a card to the directory
)

// RunStatus is where a run stands.
type RunStatus string

const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"    // nothing was removed or disabled
	RunCancelled RunStatus = "cancelled" // stopped by an admin or at shutdown
	RunHeld      RunStatus = "held"      // removals exceeded the threshold and wait for approval
)

// Run is one synchronisation of one source: what it did, and what went
// wrong with single entries without stopping the run.
type Run struct {
	ID         int64
	SourceID   int64
	Mode       RunMode
	Status     RunStatus
	StartedAt  time.Time
	FinishedAt time.Time // zero while running

	Seen      int // entries read from the directory
	Created   int
	Updated   int
	Renamed   int
	Disabled  int
	Reenabled int
	Deleted   int
	Skipped   int // entries left out on purpose: disabled (with skip), out of the group scope
	Failed    int // entries skipped because of an EntryError
	Held      int // user removals held for approval

	// HeldGroups and HeldMemberships count the group and membership
	// removals held for approval because they passed the removal
	// threshold; an approving run removes, past the threshold, no more
	// than these.
	HeldGroups      int
	HeldMemberships int

	Error       string   // admin-facing reason when Status is RunFailed
	Notes       []string // what an admin should know, such as "empty result: nobody removed"
	EntryErrors []EntryError
	HeldUsers   []int64 // IDs of the users whose removal is held
}

// EntryError is a problem with one directory entry. The run goes on
// without that entry; the entry's user, if any, is left as it was.
type EntryError struct {
	DN      string
	Anchor  string
	Message string
}

// Done reports whether the run has finished, whatever the outcome.
func (r *Run) Done() bool { return r.Status != RunRunning }

// Hold is what one held run held for approval: an approving run lets go
// only that much.
type Hold struct {
	RunID int64   // the held run; 0 when nothing is held
	Users []int64 // IDs of the users whose removal was held, in ID order
	// Groups and Memberships count the group and membership removals the
	// run held at the removal threshold (Run.HeldGroups and
	// Run.HeldMemberships).
	Groups, Memberships int
}
