package roster

// Group is a directory group as roster keeps it. Members lists the users
// that belong to it once nesting is resolved; nested groups themselves are
// not members.
type Group struct {
	ID       int64
	SourceID int64
	Anchor   string // objectGUID or entryUUID, as for users
	DN       string
	Name     string
	Members  []int64 // user IDs
}

// GroupSummary is a group with how many roster users belong to it.
type GroupSummary struct {
	Group
	Users int `json:"users"`
}

// GroupPlan is how a read of a source's groups differs from the stored
// ones: what a store's SyncGroups with Remove would write. The engine
// weighs the removals against the source's removal threshold before it
// lets them go.
type GroupPlan struct {
	Groups  int // the source's stored groups, before
	Members int // their stored memberships, before

	AddGroups, UpdateGroups, RemoveGroups int
	// AddMembers counts the memberships to add, those of new groups
	// included; RemoveMembers those to remove, those of removed groups
	// included.
	AddMembers, RemoveMembers int

	Removed []string // names of the groups to remove, sorted
	Shrunk  []string // names of the kept groups that lose members, sorted
}

// Removes reports whether the plan removes a group or a membership.
func (p GroupPlan) Removes() bool { return p.RemoveGroups > 0 || p.RemoveMembers > 0 }

// GroupSync says what a store's SyncGroups may do besides adding and
// updating groups and memberships.
type GroupSync struct {
	// Remove deletes the groups and memberships the read no longer holds.
	// The engine sets it only for a run whose user removals went ahead
	// (not failed, held, empty, a dry run, nor an incremental request
	// read in full), whose groups search returned something, and whose
	// group removals are under the removal threshold or approved within
	// the counts the held run held (see reconcile.Options.ApproveRemovals).
	Remove bool
	// Cursor, when not zero, is saved as the source's cursor with the
	// groups.
	Cursor Cursor
}
