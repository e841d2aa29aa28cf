// Package reconcile is roster's sync engine. It reads the records a
// directory returns, compares them with the stored users of the same
// source by anchor, and plans changes: create, update, rename, disable,
// re-enable, delete. Then, unless it is a dry run, it applies them.
//
// The engine does no I/O of its own: it talks to a Directory and a Store,
// both defined here, the narrow interfaces it needs. Given the same
// records and the same stored users it plans the same changes.
//
// Its safety rails: a run that errs (bind, search, paging, TLS, a cut
// connection) or returns nothing removes nobody; removals above the
// source's threshold are held for approval; only users of this source are
// ever removed; local-only data (cards added by hand, an admin's disable)
// is never overwritten.
package reconcile

import (
	"context"

	"github.com/rosterhq/roster"
)

// Directory is the source's directory, as the engine reads it.
type Directory interface {
	// Users calls page with each page of mapped records, in directory
	// order, and bad for each entry that cannot become a record. It
	// returns nil only when every page was read: any error means the
	// result is partial. An error from page or bad stops the read and is
	// returned.
	Users(ctx context.Context, page func([]roster.Record) error, bad func(roster.EntryError) error) error

	// Groups returns every group under the search bases, members resolved
	// through nesting to user DNs.
	Groups(ctx context.Context) ([]roster.GroupRecord, error)
}

// ChangeReader is a Directory that can say where it stands and return
// only the entries changed since. A Directory without it always gets a
// full sync.
type ChangeReader interface {
	// Mark returns where the directory stands now. The engine reads it
	// before any search, so a change made during the run is read again
	// by the next one rather than missed. A zero cursor means the
	// directory offers no change tracking.
	Mark(ctx context.Context) (roster.Cursor, error)

	// Changed is Users restricted to the entries changed after since.
	// Deletions come from Deleted; the ones it cannot see are found by
	// full syncs.
	Changed(ctx context.Context, since roster.Cursor, page func([]roster.Record) error, bad func(roster.EntryError) error) error

	// GroupsChanged reports whether a group (or a membership) changed
	// after since; an incremental run reads the groups only then.
	GroupsChanged(ctx context.Context, since roster.Cursor) (bool, error)

	// Deleted returns the anchors of the entries deleted after since, as
	// far as the directory lets the account see them; none when it
	// cannot tell.
	Deleted(ctx context.Context, since roster.Cursor) ([]string, error)
}

// Store is the user base, as the engine needs it. All methods act on the
// users of one source only.
type Store interface {
	// UsersByAnchor returns the stored users with these anchors, keyed by
	// anchor, with their aliases and cards (Card.Origin tells directory
	// cards from manual ones). Missing anchors are absent.
	UsersByAnchor(ctx context.Context, sourceID int64, anchors []string) (map[string]*roster.User, error)

	// UserByCard returns the user, of any source, who holds the card of
	// this number, or an error of code ENOTFOUND. The engine asks it
	// only for a card that two entries of a run list, to name the first.
	UserByCard(ctx context.Context, number string) (*roster.User, error)

	// UserDigests returns the digests of the stored users with these
	// anchors, keyed by anchor: what the engine needs to know an entry
	// unchanged without loading its user. Missing anchors are absent.
	UserDigests(ctx context.Context, sourceID int64, anchors []string) (map[string]roster.UserDigest, error)

	// SaveFingerprints stores each fingerprint with its user, and writes
	// nothing else, not even the user's update time; a user of another
	// source, or one whose fingerprint is no longer fp.Was, keeps the one
	// it has. Apply stores the fingerprints of the users it writes.
	SaveFingerprints(ctx context.Context, sourceID int64, fps []roster.UserFingerprint) error

	// LoginOwners returns, for each of the logins that a stored user holds
	// as its current login, that user's anchor. Former logins (aliases) do
	// not count: a freed login may go to someone else, and Apply then
	// takes it out of the former holder's aliases.
	LoginOwners(ctx context.Context, sourceID int64, logins []string) (map[string]string, error)

	// UserStates calls fn with the state of every stored user of the
	// source, in ID order. An error from fn stops it and is returned.
	UserStates(ctx context.Context, sourceID int64, fn func(roster.UserState) error) error

	// CountUsers returns how many users the source has stored, whatever
	// their state: those UserStates would call fn with.
	CountUsers(ctx context.Context, sourceID int64) (int, error)

	// HasUsers reports whether the source has any stored user, whatever
	// its state: whether CountUsers would be above 0, without counting.
	// An error means the user base did not answer; the run then fails.
	HasUsers(ctx context.Context, sourceID int64) (bool, error)

	// Apply writes the changes in one transaction: all or nothing. It
	// returns one user ID per change, in the order of changes: the new
	// user's for a Create, c.User.ID for the others; on an error, none.
	// It never writes into the changes or their users. An updated user's
	// directory cards are replaced only when c.CardsChanged says they
	// changed (see roster.Change). It keeps c.Fingerprint with a created
	// or updated user, or 0 when it kept an admin's print code over the
	// planned one (c.PrintCodeWas).
	//
	// Errors: ECONFLICT when a card it is to write belongs to another
	// user (the engine then retries the batch change by change);
	// ENOTFOUND when a user to change or delete is not a user of the
	// source.
	Apply(ctx context.Context, sourceID int64, changes []roster.Change) ([]int64, error)

	// PlanGroups returns what SyncGroups with Remove would change to make
	// the source's groups and memberships equal to groups, and writes
	// nothing. Members are compared as SyncGroups compares them.
	//
	// Errors: EINVALID when two groups share an anchor.
	PlanGroups(ctx context.Context, sourceID int64, groups []roster.GroupRecord) (roster.GroupPlan, error)

	// SyncGroups writes groups as the source's groups, in one
	// transaction, writing only the differences: a group with a new
	// anchor is added, a group whose DN or name changed is updated, and a
	// member a group did not have is added. With opt.Remove it also
	// deletes the stored groups that groups does not hold (with their
	// memberships) and the memberships a group no longer lists, so that
	// the stored groups equal groups; without it, it deletes nothing.
	// A non-zero opt.Cursor is saved as the source's cursor in the same
	// transaction, so that the groups and the cursor are written together
	// or not at all. On an error nothing is written.
	//
	// Errors: EINVALID when two groups share an anchor.
	SyncGroups(ctx context.Context, sourceID int64, groups []roster.GroupRecord, opt roster.GroupSync) error

	// StartRun stores a new run and sets its ID; FinishRun stores its end.
	StartRun(ctx context.Context, run *roster.Run) error
	FinishRun(ctx context.Context, run *roster.Run) error

	// Cursor returns the source's saved cursor, zero when there is none.
	// SaveCursor replaces it.
	Cursor(ctx context.Context, sourceID int64) (roster.Cursor, error)
	SaveCursor(ctx context.Context, sourceID int64, c roster.Cursor) error

	// HeldRemovals returns what the source's latest run with status held
	// held (its ID, its held users in ID order, and its counts of held
	// group and membership removals), unless a later full run of the
	// source succeeded, which clears the hold; the zero Hold when there
	// is none. Incremental and preview runs do not clear a hold.
	HeldRemovals(ctx context.Context, sourceID int64) (roster.Hold, error)
}

// holdsGroups reports whether h held group or membership removals.
func holdsGroups(h roster.Hold) bool { return h.Groups > 0 || h.Memberships > 0 }
