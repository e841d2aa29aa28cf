package reconcile

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Engine runs syncs. Store, Now and HashCode are required.
type Engine struct {
	Store    Store
	Now      func() time.Time
	Log      *slog.Logger
	HashCode func(code string) string // keyed hash under which print codes are stored
	Progress func(Progress)           // called after each page; may be nil
	Started  func(*roster.Run)        // called once the run is recorded, with its ID; may be nil
}

// Progress is where a run stands, for a progress display.
type Progress struct {
	Phase   string // "groups", "users", "removals"
	Seen    int
	Created int // users the run created or planned to, so far
	Elapsed time.Duration
}

// Options change what a run may do.
type Options struct {
	DryRun bool // plan only: write nothing, not even the run record
	// ApproveRemovals carries out the removals that the source's last
	// held run held (Store.HeldRemovals), as far as they are still due:
	// its held users go, past the removal threshold. Its group and
	// membership removals go past the threshold only when that run held
	// some, and only while this run plans to remove no more groups and
	// no more memberships than it held (Run.HeldGroups and
	// Run.HeldMemberships): an approval never lets go more than an admin
	// could review. Otherwise the threshold applies as in any run, and
	// the group removals may be held again, with a note that says why.
	// With nothing held, an approving run is an ordinary run.
	ApproveRemovals bool
	// Incremental reads only the entries changed since the source's
	// cursor, and removes only the users the directory reports deleted.
	// When the directory cannot say what changed, or the cursor does not
	// follow on (none yet, another domain controller, a restore, new
	// settings), the run reads every entry but still removes nobody, and
	// its notes say why.
	Incremental bool
	// Plan, when set, takes a dry run's planned changes as they are
	// planned, in order, a batch at a time, and Result.Changes stays
	// empty: a plan is as large as the directory, and a first sync of
	// 1,000,000 users plans that many creates. Plan may keep the
	// changes' values, not the slice, which the run reuses. Its error
	// ends the run.
	Plan func([]roster.Change) error
}

// Result is a run's record and, for a dry run, its plan.
type Result struct {
	Run     *roster.Run
	Changes []roster.Change // every planned change, in order; only for a dry run without Options.Plan
	Held    []roster.Change // removals held for approval, the first maxHeldChanges of Run.Held
}

// mark is what a run knows of an anchor it saw, in increasing order.
type mark uint8

const (
	returned mark = iota + 1 // the directory returned it (perhaps as a bad entry)
	accepted                 // its record is valid and in scope
	created                  // this run created its user
)

// maxEntryErrors bounds what one run records of bad entries; the count
// in Run.Failed stays exact.
const maxEntryErrors = 1000

// Run syncs one source: it reads the groups first (they decide a group
// scope), then the users page by page, applying each page in one
// transaction, then removes the users the directory no longer returns,
// and last writes the groups and the cursor in one transaction. Any
// error before the removals fails the run and removes nobody; any error
// at all leaves the groups and the cursor as they were. The returned
// error is the run's failure, also recorded in Result.Run.
func (e *Engine) Run(ctx context.Context, src *roster.Source, sourceID int64, dir Directory, opt Options) (*Result, error) {
	r := &runner{e: e, src: src, dir: dir, opt: opt, start: e.Now(),
		seen: newDigestSet(false), logins: newDigestSet(true), cards: newDigestSet(false), claims: map[string]string{},
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	r.run = &roster.Run{SourceID: sourceID, Mode: roster.RunFull, Status: roster.RunRunning, StartedAt: r.start}
	// The run timeout bounds the whole run, beyond each request's own:
	// a directory that answers every page just in time must not hold the
	// source for ever.
	limit := src.RunTimeout
	if limit <= 0 {
		limit = roster.DefaultRunTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, errRunTimeout(limit))
	defer cancel()
	var err error
	if opt.DryRun {
		r.run.Mode = roster.RunPreview
		if opt.Incremental {
			r.run.Notes = append(r.run.Notes, "a preview reads every entry: this plan is a full sync's, removals included")
		}
	} else {
		// The mode is known before the run is recorded; a failure to
		// learn it fails the recorded run.
		err = r.planMode(ctx)
		if serr := e.Store.StartRun(ctx, r.run); serr != nil {
			return nil, serr
		}
	}
	if e.Started != nil {
		e.Started(r.run)
	}
	if err == nil {
		err = r.do(ctx)
	}
	if r.cardProblems > 0 {
		r.run.Notes = append(r.run.Notes, fmt.Sprintf("%d card values did not pass the source's card transforms and were left out of their users' cards (the first: %s); try them with roster card test", r.cardProblems, r.firstCardProblem))
	}
	r.run.FinishedAt = e.Now()
	if err != nil {
		r.run.Status = roster.RunFailed
		if errors.Is(err, context.Canceled) {
			r.run.Status = roster.RunCancelled
		}
		r.run.Error = roster.ErrorMessage(err)
		if roster.ErrorCode(err) == roster.EINTERNAL && !errors.Is(err, context.Canceled) {
			r.run.Error = err.Error()
		}
		// A context cancelled for a reason (a lost lease, the run
		// timeout) says why.
		if cause := context.Cause(ctx); (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) &&
			cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
			r.run.Error = roster.ErrorMessage(cause)
		}
		// The removals come after every read: only the user base
		// failing to take the groups or the cursor stops a run after them.
		done := "nobody was disabled or deleted"
		if r.removed > 0 {
			done = fmt.Sprintf("it had removed %d users the directory no longer returns", r.removed)
		}
		r.run.Notes = append(r.run.Notes, "the run did not finish: "+done+", no group or membership changed, and no cursor was saved")
	}
	if !opt.DryRun {
		// Record the outcome even when ctx was cancelled.
		if ferr := e.Store.FinishRun(context.WithoutCancel(ctx), r.run); ferr != nil && err == nil {
			err = ferr
		}
	}
	return &Result{Run: r.run, Changes: r.changes, Held: r.held}, err
}

type runner struct {
	e     *Engine
	src   *roster.Source
	dir   Directory
	opt   Options
	run   *roster.Run
	start time.Time

	// seen marks every anchor the directory returned this run. A
	// returned entry is never removed, even when it was skipped as bad:
	// a broken entry is not a departed user.
	//
	// The run's sets are keyed by digest (see key), not by the strings,
	// so that they stay small in a large directory: a mark a digest.
	seen *digestSet
	// logins holds the logins of the entries accepted this run: a set,
	// since an anchor is accepted once (a second sight of it is dropped
	// first), so a login met again is another entry's.
	logins *digestSet
	// cards maps the card numbers of this run to their holders: a
	// number an entry (holders counts them), or, for a holder the user
	// base will not name, its login kept in names (the reference with
	// namedHolder set). A duplicate names its first holder (firstHolder)
	// from claims, names, or the user base (not in a source's first
	// sync): most holders' logins are not
	// kept for the whole run (they took 15 MB at a million entries).
	cards   *digestSet
	holders uint32
	names   names
	// claims holds the holders' logins of the cards claimed since the
	// last write (in a dry run, the last batch planned), whose users the
	// user base does not have yet: those of the entries planned to
	// change. Entries known unchanged never enter it (the user base has
	// their cards), those found unchanged on a closer look leave it;
	// skipped entries', and those whose cards the user base refused,
	// move to names.
	claims map[string]string
	seeds  [2]maphash.Seed

	// Card values the source's card transforms refused: how many, and
	// the first, for the run's note.
	cardProblems     int
	firstCardProblem string
	scope            map[string]bool // roster.DNKey of the users in the group scope; nil when unscoped
	outOfScope       map[string]bool // anchors returned this run but out of the group scope

	// waiting holds the entries whose login a stored user holds that
	// this run has not returned (yet): whether that user gives the login
	// up is known once every entry is read (see takeLogins). givenUp
	// lists the logins given up, for the run's note.
	waiting []waitingLogin
	givenUp []string

	changes []roster.Change
	held    []roster.Change
	// plannedRemovals are a dry run's planned removals (deletes, and disables
	// of users the directory no longer returns) by anchor, for
	// takeLogins: its plan is not kept (Options.Plan).
	plannedRemovals map[string]plannedRemoval

	// pending holds the planned changes of the pages read so far, not
	// yet written: they are written in batches of applyBatch (and once
	// every entry is read), as if the pages were one larger page.
	pending []roster.Change
	// fingerprints are those of users found unchanged whose stored one
	// was missing or stale, written with the pending changes.
	fingerprints []roster.UserFingerprint
	// fresh says the source had no user when the run began reading
	// entries: its pages need no digests and no login owners, since the
	// only users they could find are those this run created, which its
	// own sets know (seen, logins). Only syncs write a source's users,
	// one at a time under the source's lease (a dry run holds none, but
	// writes nothing either). A first sync of 1,000,000
	// users with random anchors took 63 s instead of 69 s, and of
	// 100,000 3.9 s instead of 4.0 s (medians of 4 and 5, alternating).
	fresh bool

	// mark is where the directory stood before the search, saved as
	// the source's cursor when the run succeeds; since is the cursor an
	// incremental run resumes from.
	tracker ChangeReader
	mark    roster.Cursor
	since   roster.Cursor
	gone    map[string]bool // incremental: the anchors the directory reports deleted
	keepAll bool            // an incremental request read in full: no removals

	removed int // users disabled or deleted as missing, written
	// matched counts the stored users the directory returned (valid and
	// in scope): when they and the users this run created are all the
	// source has, nobody is missing, and the removals need not read
	// every user's state.
	matched int

	// hold is what the source's last held run held, read once, before
	// any removal, by a run that approves removals; nil until read.
	hold *roster.Hold

	// keepGroups says why this run's group and membership removals wait
	// (the users' removals did not go ahead); empty when they may go.
	keepGroups string
	// noCursor says why the mark is not saved though the run succeeded:
	// a search came back empty, which a later full read may contradict.
	noCursor string
}

// key returns the run's digest of s.
func (r *runner) key(s string) digest { return digestOf(&r.seeds, s) }

// markOf returns what the run knows of an anchor: 0 when not seen.
func (r *runner) markOf(anchor string) mark { return mark(r.seen.get(r.key(anchor))) }

// see records what the run knows of an anchor.
func (r *runner) see(anchor string, m mark) { r.seen.put(r.key(anchor), uint32(m)) }

// fallBack makes an incremental request a full read that removes
// nobody: whoever asked for "changes only" did not ask for removals,
// which wait for the next full sync.
func (r *runner) fallBack(why string) {
	r.keepAll = true
	r.run.Notes = append(r.run.Notes, "every entry was read instead of only the changes: "+why+"; nobody was removed, as for an incremental run (the next full sync finds leavers)")
}

// planMode reads where the directory stands and decides between an
// incremental and a full run.
func (r *runner) planMode(ctx context.Context) error {
	cr, ok := r.dir.(ChangeReader)
	if !ok {
		if r.opt.Incremental {
			r.fallBack("this directory offers no change tracking that roster uses")
		}
		return nil
	}
	mark, err := cr.Mark(ctx)
	if err != nil {
		if r.opt.Incremental {
			r.run.Mode = roster.RunIncremental // what was asked, and what failed
			return err
		}
		// A connection that failed fails the run here, with its own
		// reason: the next read would only meet the closed connection.
		if c := roster.ErrorCode(err); c == roster.EUNAVAILABLE || c == roster.ETLS || ctx.Err() != nil {
			return err
		}
		// A full run does not need the cursor: it goes on without one,
		// and the next incremental run is a full one.
		r.run.Notes = append(r.run.Notes, "the directory's change tracking could not be read ("+roster.ErrorMessage(err)+"): no cursor was saved for incremental syncs")
		return nil
	}
	if !mark.IsZero() {
		mark.Scope = roster.ScopeKey(r.src)
	}
	r.tracker, r.mark = cr, mark
	if !r.opt.Incremental {
		return nil
	}
	since, err := r.e.Store.Cursor(ctx, r.run.SourceID)
	if err != nil {
		return err
	}
	if ok, why := mark.Follows(since); !ok {
		r.fallBack(why)
		return nil
	}
	r.since = since
	r.run.Mode = roster.RunIncremental
	return nil
}

func (r *runner) do(ctx context.Context) error {
	// An incremental run reads the groups only when one changed, unless
	// a group scope needs them to pick the users.
	readGroups, scopeMoved := true, false
	if r.run.Mode == roster.RunIncremental {
		changed, err := r.tracker.GroupsChanged(ctx, r.since)
		if err != nil {
			return err
		}
		if len(r.src.GroupScope) == 0 {
			readGroups = changed
		} else {
			// A user who joins a scope group changes the group, not the
			// user: only a full read finds them.
			scopeMoved = changed
		}
	}
	var groups []roster.GroupRecord
	var err error
	if readGroups {
		r.progress("groups")
		if groups, err = r.dir.Groups(ctx); err != nil {
			return err
		}
	}
	if len(r.src.GroupScope) > 0 {
		if r.scope, err = scopeOf(r.src.GroupScope, groups); err != nil {
			return err
		}
	}
	read, full := r.dir.Users, true
	if scopeMoved {
		r.fallBack("a group changed, and the source syncs the members of its scope groups only")
	} else if r.run.Mode == roster.RunIncremental {
		full = false
		read = func(ctx context.Context, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
			return r.tracker.Changed(ctx, r.since, page, bad)
		}
	}
	handed := false
	pageFn := func(page []roster.Record) error {
		handed = true
		if err := r.page(ctx, page); err != nil {
			return err
		}
		r.progress("users")
		return ctx.Err()
	}
	badFn := func(ee roster.EntryError) error {
		handed = true
		r.badEntry(ee)
		return nil
	}
	has, err := r.e.Store.HasUsers(ctx, r.run.SourceID)
	if err != nil {
		return err
	}
	r.fresh = !has
	err = read(ctx, pageFn, badFn)
	if !full && !handed && errors.Is(err, roster.ErrChangesLost) {
		// The directory can no longer say what changed (Graph's delta
		// link expired): the run reads everything and is a full run,
		// removals included, under the same threshold.
		r.run.Notes = append(r.run.Notes, "every entry was read instead of only the changes: "+roster.ErrorMessage(err)+"; the run compared every stored user with them, as a full sync does")
		r.run.Mode, full = roster.RunFull, true
		if !readGroups {
			r.progress("groups")
			if groups, err = r.dir.Groups(ctx); err != nil {
				return err
			}
			readGroups = true
		}
		err = r.dir.Users(ctx, pageFn, badFn)
	}
	// The entries planned before a failed read are written all the same,
	// as a page is: they came whole from the directory, and the run's
	// counts include them. A failed read removes nobody.
	if ferr := r.flush(ctx); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if full && r.seen.len() == 0 {
		r.noCursor = "the directory returned no users"
	}
	// Every read comes before the first removal.
	var plan roster.GroupPlan
	if readGroups {
		if plan, err = r.e.Store.PlanGroups(ctx, r.run.SourceID, groups); err != nil {
			return err
		}
	}
	if _, err := r.approval(ctx); err != nil {
		return err
	}
	if err := r.leavers(ctx); err != nil {
		return err
	}
	if err := r.takeLogins(ctx); err != nil {
		return err
	}
	// The groups are written last, with the cursor, in one transaction:
	// a run that fails before changes no group and saves no cursor.
	// Every change up to the mark is then in the user base, held
	// removals aside: they wait for an approval or a full run.
	cursor := r.mark
	if r.opt.DryRun {
		cursor = roster.Cursor{}
	}
	if readGroups {
		if err := r.groups(ctx, groups, plan, cursor); err != nil {
			return err
		}
	} else if !cursor.IsZero() && r.noCursor == "" {
		if err := r.e.Store.SaveCursor(ctx, r.run.SourceID, cursor); err != nil {
			return err
		}
	}
	if r.noCursor != "" && !r.mark.IsZero() && !r.opt.DryRun {
		r.run.Notes = append(r.run.Notes, "no cursor was saved, as "+r.noCursor+": the next incremental run reads every entry")
	}
	if r.run.Status == roster.RunRunning {
		r.run.Status = roster.RunSucceeded
	}
	return nil
}

// maxGroupNames bounds the group names a note lists.
const maxGroupNames = 5

// approval returns what the source's last held run held, read from the
// store once per run; the zero Hold unless this run approves removals.
func (r *runner) approval(ctx context.Context) (roster.Hold, error) {
	if !r.opt.ApproveRemovals {
		return roster.Hold{}, nil
	}
	if r.hold == nil {
		h, err := r.e.Store.HeldRemovals(ctx, r.run.SourceID)
		if err != nil {
			return roster.Hold{}, err
		}
		r.hold = &h
	}
	return *r.hold, nil
}

// groups writes the groups read, planned as plan, last in the run, with
// the cursor when it is not zero. It adds and updates groups and
// memberships; it removes them only when the users' removals went ahead,
// the groups search returned something, and the removals stay under the
// source's removal threshold, or this run approves removals and removes
// no more groups and no more memberships than the held run held (the
// groups are read again each run: an approval lets this run's removals
// go, up to what an admin could review). Otherwise they wait, and a note
// says why; removals held at the threshold are counted in the run
// (HeldGroups, HeldMemberships). A dry run plans the same and writes
// nothing.
func (r *runner) groups(ctx context.Context, groups []roster.GroupRecord, plan roster.GroupPlan, cursor roster.Cursor) error {
	remove := plan.Removes() && r.keepGroups == ""
	hold, err := r.approval(ctx) // read by do before the removals
	if err != nil {
		return err
	}
	switch {
	case len(groups) == 0 && plan.Groups > 0:
		// Like an empty user result: more likely a wrong base DN or
		// missing rights than a directory without groups.
		remove = false
		if r.noCursor == "" {
			r.noCursor = "the directory returned no groups"
		}
		r.run.Notes = append(r.run.Notes, fmt.Sprintf("the directory returned no groups, though the source has %d: no group or membership was removed (check the base DN, and that the account may read the groups)", plan.Groups))
	case remove:
		pol := r.src.Removal
		switch {
		case r.opt.ApproveRemovals && holdsGroups(hold) && plan.RemoveGroups <= hold.Groups && plan.RemoveMembers <= hold.Memberships:
			r.run.Notes = append(r.run.Notes, fmt.Sprintf("group removals approved, within the %d groups and %d memberships run %d held: %s",
				hold.Groups, hold.Memberships, hold.RunID, groupChanges(plan)))
		case pol.Trips(plan.RemoveGroups, plan.Groups) || pol.Trips(plan.RemoveMembers, plan.Members):
			percent, count := pol.Threshold()
			remove = false
			r.run.Status = roster.RunHeld
			r.run.HeldGroups, r.run.HeldMemberships = plan.RemoveGroups, plan.RemoveMembers
			if r.opt.ApproveRemovals {
				r.run.Notes = append(r.run.Notes, notApproved(hold, plan))
			}
			r.run.Notes = append(r.run.Notes, fmt.Sprintf(
				"%d of %d groups and %d of %d memberships would be removed, more than the threshold (%g%% and %d): the group removals are held, while groups and members were added and updated%s; check them with roster runs show, then run roster sync -approve-removals",
				plan.RemoveGroups, plan.Groups, plan.RemoveMembers, plan.Members, percent, count, groupNames(plan)))
		}
	case plan.Removes():
		r.run.Notes = append(r.run.Notes, fmt.Sprintf("%d groups and %d memberships the directory no longer returns were kept, as %s; a later run that removes users removes them, under the removal threshold%s",
			plan.RemoveGroups, plan.RemoveMembers, r.keepGroups, groupNames(plan)))
	}
	if r.opt.DryRun {
		r.run.Notes = append(r.run.Notes, "planned for the groups: "+groupChanges(plan)+groupNames(plan))
		return nil
	}
	if r.noCursor != "" {
		cursor = roster.Cursor{}
	}
	return r.e.Store.SyncGroups(ctx, r.run.SourceID, groups, roster.GroupSync{Remove: remove, Cursor: cursor})
}

// notApproved says, for an approving run's note, why its group removals
// met the threshold: the approval covers only what the held run held.
func notApproved(hold roster.Hold, plan roster.GroupPlan) string {
	switch {
	case hold.RunID == 0:
		return "no held run waits for approval: the group removals met the removal threshold as in any run"
	case !holdsGroups(hold):
		return fmt.Sprintf("the approval does not cover these group removals: run %d held no group or membership removals, so they met the removal threshold as in any run", hold.RunID)
	}
	return fmt.Sprintf("the approval does not cover these group removals: run %d held %d groups and %d memberships, and this run would remove %d groups and %d memberships, so they met the removal threshold as in any run",
		hold.RunID, hold.Groups, hold.Memberships, plan.RemoveGroups, plan.RemoveMembers)
}

// groupChanges sums up a group plan for a note.
func groupChanges(p roster.GroupPlan) string {
	return fmt.Sprintf("%d groups added, %d updated, %d removed; %d memberships added, %d removed",
		p.AddGroups, p.UpdateGroups, p.RemoveGroups, p.AddMembers, p.RemoveMembers)
}

// groupNames names the first few groups a plan removes or shrinks, for a
// note; empty when there are none.
func groupNames(p roster.GroupPlan) string {
	list := func(names []string) string {
		s := strings.Join(names[:min(len(names), maxGroupNames)], ", ")
		if len(names) > maxGroupNames {
			s += fmt.Sprintf(" and %d more", len(names)-maxGroupNames)
		}
		return s
	}
	var out string
	if len(p.Removed) > 0 {
		out += " (groups removed: " + list(p.Removed) + ")"
	}
	if len(p.Shrunk) > 0 {
		out += " (groups losing members: " + list(p.Shrunk) + ")"
	}
	return out
}

func (r *runner) progress(phase string) {
	if r.e.Progress != nil {
		r.e.Progress(Progress{Phase: phase, Seen: r.run.Seen, Created: r.run.Created, Elapsed: r.e.Now().Sub(r.start)})
	}
}

func (r *runner) entryError(ee roster.EntryError) {
	r.run.Failed++
	if len(r.run.EntryErrors) < maxEntryErrors {
		r.run.EntryErrors = append(r.run.EntryErrors, ee)
	}
}

// badEntry records an entry the directory returned but could not map.
// Its user, if any, is kept: a broken entry is not a departed user. An
// entry read twice (overlapping base DNs) counts once.
func (r *runner) badEntry(ee roster.EntryError) {
	if ee.Anchor != "" {
		if r.markOf(ee.Anchor) != 0 || r.outOfScope[ee.Anchor] {
			return
		}
		if r.scope != nil && !r.scope[roster.DNKey(ee.DN)] {
			r.skipOutOfScope(ee.Anchor)
			return
		}
		r.see(ee.Anchor, returned)
	}
	r.entryError(ee)
}

// skipOutOfScope skips an entry outside the group scope: the one kind of
// entry the directory returns whose user may be removed.
func (r *runner) skipOutOfScope(anchor string) {
	r.run.Skipped++
	if anchor != "" {
		if r.outOfScope == nil {
			r.outOfScope = map[string]bool{}
		}
		r.outOfScope[anchor] = true
	}
}

// page plans and applies one page of records.
func (r *runner) page(ctx context.Context, page []roster.Record) error {
	var recs []*roster.Record
	for i := range page {
		rec := &page[i]
		ak := r.key(rec.Anchor) // the run's key of the anchor, once
		if rec.Anchor != "" {
			if r.seen.get(ak) != 0 || r.outOfScope[rec.Anchor] {
				continue // the same entry under two overlapping base DNs: counted once
			}
		}
		r.run.Seen++
		// The directory's reader normalises logins; so does the engine,
		// whatever reads the directory.
		rec.Login = roster.NormalizeLogin(rec.Login)
		if r.scope != nil && !r.scope[roster.DNKey(rec.DN)] {
			r.skipOutOfScope(rec.Anchor)
			continue
		}
		if len(rec.CardProblems) > 0 {
			if r.cardProblems == 0 {
				r.firstCardProblem = rec.Login + ": " + rec.CardProblems[0]
			}
			r.cardProblems += len(rec.CardProblems)
		}
		// Returned, and accepted below unless it fails a check: one put.
		if why := validate(rec); why != "" {
			if rec.Anchor != "" {
				r.seen.put(ak, uint32(returned))
			}
			r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: why})
			continue
		}
		if r.logins.add(r.key(rec.Login), 1) != 0 {
			r.seen.put(ak, uint32(returned))
			r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor,
				Message: fmt.Sprintf("the login %s is also the login of another entry of this directory; both entries need distinct logins", rec.Login)})
			continue
		}
		r.seen.put(ak, uint32(accepted))
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil
	}
	digests, owners, err := r.lookUp(ctx, recs)
	if err != nil {
		return err
	}
	// The anchors asked for, each once: a second sight is dropped above.
	r.matched += len(digests)
	var compare, waiting []*roster.Record // entries whose users are loaded whole
	var fps []uint64                      // compare's fingerprints
	var load []string
	for _, rec := range recs {
		_, known := digests[rec.Anchor]
		// A login held by another stored user is a conflict, unless that
		// user was already seen in this run under a new login: then it
		// was renamed away, and the login is free. A holder this run has
		// not returned may be gone (an entry deleted and made again):
		// that waits until every entry is read (takeLogins).
		if owner, ok := owners[rec.Login]; ok && owner != rec.Anchor && r.markOf(owner) < accepted {
			// Left unchanged for now: not yet holding its new login, so
			// no other entry may take its current one.
			r.see(rec.Anchor, returned)
			if r.markOf(owner) == 0 && !r.outOfScope[owner] {
				waiting = append(waiting, rec)
				if known {
					load = append(load, rec.Anchor)
				}
				continue
			}
			r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: errLoginTaken(rec.Login)})
			continue
		}
		if rec.Cards, err = r.claimCards(ctx, rec); err != nil {
			return err
		}
		fp := fingerprint(rec, r.codeHash(rec))
		if known && unchanged(digests[rec.Anchor], rec, fp) {
			continue
		}
		r.claim(rec)
		compare, fps = append(compare, rec), append(fps, fp)
		if known {
			load = append(load, rec.Anchor)
		}
	}
	existing := map[string]*roster.User{}
	if len(load) > 0 {
		if existing, err = r.e.Store.UsersByAnchor(ctx, r.run.SourceID, load); err != nil {
			return err
		}
	}
	for _, rec := range waiting {
		r.waiting = append(r.waiting, waitingLogin{rec: *rec, owner: owners[rec.Login], cur: existing[rec.Anchor]})
	}
	for i, rec := range compare {
		cur := existing[rec.Anchor]
		ch := diff(rec, cur, r.e.HashCode, r.src.DisabledUsers)
		if ch == nil {
			if cur == nil { // a disabled entry, skipped by policy
				r.run.Skipped++
				r.skipped(rec)
			} else if r.stored(rec); !r.opt.DryRun {
				// Unchanged, with a fingerprint missing or stale (a user
				// stored before fingerprints, or changed by hand): keep
				// the fingerprint, so that the next sync needs the digest
				// only.
				r.fingerprints = append(r.fingerprints, roster.UserFingerprint{ID: cur.ID, Fingerprint: fps[i], Was: digests[rec.Anchor].Fingerprint})
			}
			continue
		}
		ch.Fingerprint = fps[i]
		if ch.Kind == roster.Create {
			r.see(rec.Anchor, created)
		}
		r.count(ch.Kind)
		r.pending = append(r.pending, *ch)
	}
	if len(r.pending)+len(r.fingerprints) >= applyBatch {
		return r.flush(ctx)
	}
	return nil
}

// applyBatch is how many planned changes are written in one transaction
// while the entries are read. Larger batches write each index page fewer
// times (a first sync of 100,000 users touches most of the anchor index's
// pages in every batch) and commit less often; the batch is held in
// memory, and a conflict retries it change by change.
const applyBatch = 5000

// flush writes the pending changes, then the pending fingerprints.
func (r *runner) flush(ctx context.Context) error {
	// The slices are kept for the next batch, emptied: a batch of 5,000
	// changes grown anew each time cost a first sync of 100,000 users
	// 0.18 s of copies in its profile (about 0.05 s of its time, side by
	// side). Apply and SaveFingerprints keep no reference.
	if len(r.pending) > 0 {
		err := r.apply(ctx, r.pending)
		clear(r.pending)
		r.pending = r.pending[:0]
		if err != nil {
			return err
		}
	}
	if r.opt.DryRun {
		// A dry run writes nothing, so the user base will never name the
		// holders of its planned changes' cards: they are kept by name,
		// in a fraction of the claims' room (a map of 1,000,000 claims
		// took about 100 MB).
		r.nameClaims()
	}
	// Written: the user base names their holders now.
	clear(r.claims)
	if len(r.fingerprints) > 0 {
		err := r.e.Store.SaveFingerprints(ctx, r.run.SourceID, r.fingerprints)
		r.fingerprints = r.fingerprints[:0]
		return err
	}
	return nil
}

// claimCards drops, with an entry error naming both users, any card that
// another entry of this run already holds. The first holder keeps it.
// Unless the entry is known unchanged, the caller then keeps the claims
// (claim) and says what became of the entry: stored (unchanged after
// all), skipped, or nothing until its change is written (see claims).
func (r *runner) claimCards(ctx context.Context, rec *roster.Record) ([]string, error) {
	var out []string
	var ref uint32 // this entry among the holders, once it holds a card
	for _, c := range rec.Cards {
		if ref == 0 {
			// Past 2 billion holders two share a number, and a card
			// they both list is not called a duplicate: a name lost,
			// not the run.
			r.holders = min(r.holders+1, namedNone)
			ref = r.holders
		}
		h := r.cards.add(r.key(c), ref)
		// Another entry's number, or a name: another entry holds it. (Past
		// the numbers' end, entries share the last, and a repeat is
		// called a duplicate too.)
		if h != 0 && (h != ref || ref == namedNone) {
			holder, err := r.firstHolder(ctx, c, h, rec.Login)
			if err != nil {
				return nil, fmt.Errorf("name the first holder of card %s, listed again by %s: %w", c, rec.Login, err)
			}
			msg := errCardTwice(c, holder, rec.Login)
			if holder == "" && r.fresh {
				msg = errCardTwiceUnnamed(c, rec.Login)
			}
			r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: msg})
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// claim keeps rec's login as the holder of the cards it claimed
// (claimCards), until its change is written: for an entry that is not
// known unchanged. An unchanged entry's user holds its cards in the user
// base already, and the hot path of an unchanged sync keeps nothing.
func (r *runner) claim(rec *roster.Record) {
	for _, c := range rec.Cards {
		r.claims[c] = rec.Login
	}
}

// errCardTwice says that card c, which holder keeps, is also listed by
// the entry of login; holder is "" when the run cannot name it.
func errCardTwice(c, holder, login string) string {
	if holder == "" {
		return fmt.Sprintf("card %s is also listed by an earlier entry of the directory, which keeps it, and %s gets no such card; search the directory for the card to find the other entry", c, login)
	}
	return fmt.Sprintf("card %s is held by both %s and %s in the directory; it stays with %s, and %s gets no such card", c, holder, login, holder, login)
}

// errCardTwiceUnnamed says that card c, listed by an earlier entry of a
// first sync that wrote it already, is also listed by the entry of login
// (see firstHolder).
func errCardTwiceUnnamed(c, login string) string {
	return fmt.Sprintf("card %s is also listed by an earlier entry of the directory, which keeps it, and %s gets no such card; the next full sync names that entry", c, login)
}

// namedHolder marks a card's holder kept in names: the rest of the
// value is the login's reference there, or namedNone for a login past
// what a reference can point to (2 GiB of names), which stays unnamed.
const (
	namedHolder = 1 << 31
	namedNone   = namedHolder - 1
)

// stored says that rec's user is in the user base with the cards rec
// claimed: its claims need not be kept.
func (r *runner) stored(rec *roster.Record) {
	for _, c := range rec.Cards {
		delete(r.claims, c)
	}
}

// skipped says that rec's user will not be in the user base (a disabled
// entry a source skips), so that its claims' holder is kept by name.
func (r *runner) skipped(rec *roster.Record) {
	for _, c := range rec.Cards {
		r.nameHolder(c, rec.Login)
	}
}

// nameHolder keeps login as the name of card c's holder, where the run
// finds it again without a claim or the user base.
func (r *runner) nameHolder(c, login string) {
	delete(r.claims, c)
	r.cards.put(r.key(c), namedHolder|min(r.names.add(login), namedNone))
}

// nameClaims keeps the holders of the claimed cards by name (see
// nameHolder), each login once.
func (r *runner) nameClaims() {
	refs := make(map[string]uint32, len(r.claims))
	for c, login := range r.claims {
		ref, ok := refs[login]
		if !ok {
			ref = min(r.names.add(login), namedNone)
			refs[login] = ref
		}
		r.cards.put(r.key(c), namedHolder|ref)
	}
}

// firstHolder returns the login of the entry that claimed card c first
// in this run, whose mark in cards is h, for the entry login that lists
// it again: kept by name (an entry skipped, or whose card the user base
// refused, a duplicate already named, or a dry run's planned batch);
// among the claims not yet written; or in the user base, which
// holds the card with its user once the claim is written, or held it
// before the run for an unchanged user. The name found is kept, so that
// each duplicated card costs one lookup. A holder found nowhere, or a
// user base that names the entry itself, is "" (errCardTwice).
//
// A run whose source had no user asks the user base nothing: the holder
// can only be a user this run wrote, and a first sync into an empty user
// base writes without the card number's index (DeferIndexes), so each
// lookup would read every card, twice (0.15-0.2 s each at 1,000,000 users).
// Every full sync says each duplicate again, and the next one names it.
// (A first sync into a user base that has users, with the index in
// place, names none either: a rare case, not worth telling apart.)
func (r *runner) firstHolder(ctx context.Context, c string, h uint32, login string) (string, error) {
	if h&namedHolder != 0 {
		if ref := h &^ namedHolder; ref != namedNone {
			return r.names.get(ref), nil
		}
		return "", nil
	}
	holder, ok := r.claims[c]
	if !ok && !r.fresh {
		u, err := r.e.Store.UserByCard(ctx, c)
		switch {
		case err == nil && u.SourceID == r.run.SourceID && u.Login != login:
			holder, ok = u.Login, true
		case err != nil && roster.ErrorCode(err) != roster.ENOTFOUND:
			return "", err
		}
	}
	if !ok {
		return "", nil
	}
	r.nameHolder(c, holder)
	return holder, nil
}

func (r *runner) count(k roster.Kind) {
	switch k {
	case roster.Create:
		r.run.Created++
	case roster.Update:
		r.run.Updated++
	case roster.Rename:
		r.run.Renamed++
	case roster.Disable:
		r.run.Disabled++
	case roster.Reenable:
		r.run.Reenabled++
	case roster.Delete:
		r.run.Deleted++
	}
}

// apply writes a batch in one transaction. If the store refuses it for a
// conflict (a card another user holds), the batch is retried change by
// change so that one bad entry does not hold back the others; a change
// refused for its cards is then made with the user's cards as they were
// (none for a new user), so that a disable or a rename still happens and
// neither holder of the card changes silently.
func (r *runner) apply(ctx context.Context, changes []roster.Change) error {
	if len(changes) == 0 {
		return nil
	}
	if r.opt.DryRun {
		for i := range changes {
			ch := &changes[i]
			if ch.Kind == roster.Create && ch.Fields == nil {
				ch.Fields = fieldChanges(&roster.User{}, ch.User)
			}
			if ch.Kind == roster.Delete || ch.Kind == roster.Disable && ch.User.DisabledReason == roster.DisabledMissing {
				if r.plannedRemovals == nil {
					r.plannedRemovals = map[string]plannedRemoval{}
				}
				r.plannedRemovals[ch.User.Anchor] = plannedRemoval{ch.Kind, ch.User.ID}
			}
		}
		return r.plan(changes)
	}
	// The new users' IDs are not needed: the run finds its users again
	// by anchor.
	_, err := r.e.Store.Apply(ctx, r.run.SourceID, changes)
	if !cardConflict(err) {
		return err
	}
	for _, ch := range changes {
		_, err := r.e.Store.Apply(ctx, r.run.SourceID, []roster.Change{ch})
		if !cardConflict(err) {
			if err != nil {
				return err
			}
			continue
		}
		r.entryError(roster.EntryError{DN: ch.DN, Anchor: ch.User.Anchor,
			Message: roster.ErrorMessage(err) + "; the entry's cards were left as they were"})
		// The user base will not name this entry as the holder of the
		// cards it claimed: its name is kept instead (see firstHolder).
		for _, c := range ch.User.Cards {
			if r.claims[c.Number] == ch.User.Login {
				r.nameHolder(c.Number, ch.User.Login)
			}
		}
		// No fingerprint: the entry, with cards its user does not have,
		// is not unchanged at the next sync, which tries again and says
		// so again.
		ch.Fingerprint = 0
		next := *ch.User
		next.Cards = nil
		if ch.Kind != roster.Create {
			cur, lerr := r.e.Store.UsersByAnchor(ctx, r.run.SourceID, []string{ch.User.Anchor})
			if lerr != nil {
				return lerr
			}
			if u := cur[ch.User.Anchor]; u != nil {
				next.Cards = u.Cards
			}
		}
		// The cards as they were, none for a new user: nothing to write.
		ch.User, ch.CardsChanged = &next, false
		if _, err := r.e.Store.Apply(ctx, r.run.SourceID, []roster.Change{ch}); err != nil {
			if !cardConflict(err) {
				return err
			}
			r.uncount(ch.Kind)
		}
	}
	return nil
}

// cardConflict reports whether the store refused a batch for one of its
// changes (ECONFLICT: a card another user holds), which a retry change by
// change gets past, and not for a lease the sync lost, which is a
// conflict too, of every change.
func cardConflict(err error) bool {
	return roster.ErrorCode(err) == roster.ECONFLICT && !errors.Is(err, roster.ErrLeaseLost)
}

func (r *runner) uncount(k roster.Kind) {
	switch k {
	case roster.Create:
		r.run.Created--
	case roster.Update:
		r.run.Updated--
	case roster.Rename:
		r.run.Renamed--
	case roster.Disable:
		r.run.Disabled--
	case roster.Reenable:
		r.run.Reenabled--
	case roster.Delete:
		r.run.Deleted--
	}
}

// leavers removes the users who left: in a full run every stored user
// the directory did not return; in an incremental run only those it
// reports deleted; in an incremental request that had to read every
// entry, nobody.
func (r *runner) leavers(ctx context.Context) error {
	switch {
	case r.keepAll:
		r.keepGroups = "this run removed nobody (an incremental request read every entry)"
		return nil
	case r.run.Mode == roster.RunIncremental:
		gone, err := r.tracker.Deleted(ctx, r.since)
		if err != nil || len(gone) == 0 {
			return err
		}
		r.gone = make(map[string]bool, len(gone))
		for _, a := range gone {
			r.gone[a] = true
		}
	}
	r.progress("removals")
	return r.removals(ctx)
}

// removals handles the stored users the directory did not return.
func (r *runner) removals(ctx context.Context) error {
	if r.seen.len() == 0 && r.gone == nil {
		r.keepGroups = "the directory returned no users"
		r.run.Notes = append(r.run.Notes, "the directory returned no users: nobody was disabled or deleted, and no group or membership removed (check the base DN, the filter, and that the account may read the users)")
		return nil
	}
	if r.gone == nil {
		// Every stored user returned, or created by this run: nobody is
		// missing. A count that does not add up reads every state: a
		// stored user not returned (a leaver, a bad or out-of-scope
		// entry, and every user already disabled as missing, kept by a
		// policy that does not delete), or a create that failed.
		stored, err := r.e.Store.CountUsers(ctx, r.run.SourceID)
		if err != nil {
			return err
		}
		created := r.run.Created
		if r.opt.DryRun {
			created = 0 // planned, not written
		}
		if stored == r.matched+created {
			return nil
		}
	}
	now := r.e.Now()
	pol := r.src.Removal
	// The threshold compares the new removals with the users present
	// before this run: created users are not counted, nor users already
	// disabled as missing (their deletion follows a removal that already
	// passed the threshold).
	//
	// The check reads every user's state, and decides from the states
	// alone: it loads whole users only to remove them, a batch at a
	// time. An unchanged directory loads nobody here, and a mass removal
	// that is held (a directory restored with new anchors, a base DN
	// that lost most of its users) loads nobody either: holding 100,000
	// users whole took 77 MB of heap until the run ended.
	type removal struct {
		state    roster.UserState
		delete   bool // else disable
		fresh    bool // a new removal, counted against the threshold
		approved bool // a deletion approved, made a disable
	}
	var found []removal
	present, fresh := 0, 0
	err := r.e.Store.UserStates(ctx, r.run.SourceID, func(u roster.UserState) error {
		m := r.markOf(u.Anchor)
		missing := u.Disabled && u.DisabledReason == roster.DisabledMissing
		if m != created && !missing {
			present++
		}
		switch {
		case m != 0:
			return nil // returned by the directory, even if skipped as bad
		case r.gone != nil && !r.gone[u.Anchor]:
			return nil // an incremental run: not reported deleted
		case u.Disabled && u.DisabledReason == roster.DisabledByAdmin:
			return nil // an admin's decision; a sync does not touch it
		case pol.Delete && missing && !u.MissingSince.IsZero() && now.Sub(u.MissingSince) >= pol.Grace:
			found = append(found, removal{state: u, delete: true})
		case missing:
			return nil
		case pol.Delete && pol.Grace == 0:
			fresh++
			found = append(found, removal{state: u, delete: true, fresh: true})
		default:
			fresh++
			found = append(found, removal{state: u, fresh: true})
		}
		return nil
	})
	if err != nil || len(found) == 0 {
		return err
	}
	hold, err := r.approval(ctx)
	if err != nil {
		return err
	}
	approved := map[int64]bool{}
	for _, id := range hold.Users {
		approved[id] = true
	}
	var cleared, rest []removal
	for _, rm := range found {
		switch {
		case !approved[rm.state.ID]:
			rest = append(rest, rm)
			continue
		case rm.delete && !(rm.state.Disabled && rm.state.DisabledReason == roster.DisabledMissing):
			// An approval lets held users go, as a disable: a deletion
			// still waits for its grace period.
			rm.delete, rm.approved = false, true
			fresh--
		case !rm.delete:
			fresh--
		}
		cleared = append(cleared, rm)
	}
	found = nil
	// change loads the batch's users and returns their changes. A user
	// gone, replaced or changed in state since its state was read (an
	// admin deleted, disabled or re-enabled it: the batches are loaded
	// between the writes of the ones before) is left as it is.
	change := func(batch []removal) ([]roster.Change, error) {
		anchors := make([]string, len(batch))
		for i, rm := range batch {
			anchors[i] = rm.state.Anchor
		}
		users, err := r.e.Store.UsersByAnchor(ctx, r.run.SourceID, anchors)
		if err != nil {
			return nil, err
		}
		var out []roster.Change
		for _, rm := range batch {
			u := users[rm.state.Anchor]
			if u == nil || u.ID != rm.state.ID || u.Disabled != rm.state.Disabled || u.DisabledReason != rm.state.DisabledReason ||
				!u.MissingSince.Equal(rm.state.MissingSince) {
				continue
			}
			if rm.delete {
				reason := "missing from the directory"
				if !rm.fresh {
					reason = fmt.Sprintf("missing from the directory since %s", rm.state.MissingSince.UTC().Format("2006-01-02"))
				}
				out = append(out, roster.Change{Kind: roster.Delete, Login: u.Login, DN: u.DN, User: u, Reason: reason})
				continue
			}
			next := *u
			next.Disabled, next.DisabledReason, next.MissingSince = true, roster.DisabledMissing, now
			ch := roster.Change{Kind: roster.Disable, Login: u.Login, DN: u.DN, User: &next, Reason: "missing from the directory",
				Fields: []roster.FieldChange{{Field: "disabled", Before: fmt.Sprint(u.Disabled), After: "true"}}}
			if rm.approved {
				ch.Reason, ch.Fields = "missing from the directory (approved)", nil
			}
			out = append(out, ch)
		}
		return out, nil
	}
	if pol.Trips(fresh, present) {
		percent, count := pol.Threshold()
		r.run.Held = len(rest)
		for _, rm := range rest {
			r.run.HeldUsers = append(r.run.HeldUsers, rm.state.ID)
		}
		slices.Sort(r.run.HeldUsers)
		// The run keeps the first maxHeldChanges whole, to show; roster
		// runs show lists them all.
		var err error
		if r.held, err = change(rest[:min(len(rest), maxHeldChanges)]); err != nil {
			return err
		}
		r.run.Status = roster.RunHeld
		r.keepGroups = "the users' removals are held"
		r.run.Notes = append(r.run.Notes, fmt.Sprintf(
			"%d of %d users would be removed, more than the threshold (%g%% and %d users): the removals are held, and the group removals with them; check them with roster runs show, then run roster sync -approve-removals",
			fresh, present, percent, count))
		rest = nil
	}
	for _, part := range [][]removal{cleared, rest} {
		for batch := range slices.Chunk(part, 1000) {
			changes, err := change(batch)
			if err != nil {
				return err
			}
			for _, ch := range changes {
				r.count(ch.Kind)
			}
			if err := r.apply(ctx, changes); err != nil {
				return err
			}
			if !r.opt.DryRun {
				r.removed += len(changes)
			}
		}
	}
	if r.opt.DryRun {
		return r.plan(r.held)
	}
	return nil
}

// plan hands a dry run's planned changes to Options.Plan, or keeps them
// for Result.Changes.
func (r *runner) plan(changes []roster.Change) error {
	if len(changes) == 0 {
		return nil
	}
	if r.opt.Plan != nil {
		return r.opt.Plan(changes)
	}
	r.changes = append(r.changes, changes...)
	return nil
}

// plannedRemoval is a dry run's planned removal of a user.
type plannedRemoval struct {
	kind roster.Kind
	id   int64
}

// maxHeldChanges bounds the held removals a run keeps whole
// (Result.Held); Run.Held and Run.HeldUsers count and name them all.
const maxHeldChanges = 1000

// scopeOf returns the keys (roster.DNKey) of the users in the scope
// groups: DNs are compared as DNs, however the directory spells them. A
// scope group the directory did not return fails the run: otherwise a
// typo would remove every one of its members.
func scopeOf(scope []string, groups []roster.GroupRecord) (map[string]bool, error) {
	want := map[string]bool{}
	for _, dn := range scope {
		want[roster.DNKey(dn)] = false
	}
	out := map[string]bool{}
	for _, g := range groups {
		if _, ok := want[roster.DNKey(g.DN)]; ok {
			want[roster.DNKey(g.DN)] = true
			for _, m := range g.MemberDNs {
				out[roster.DNKey(m)] = true
			}
		}
	}
	for _, dn := range scope {
		if !want[roster.DNKey(dn)] {
			return nil, roster.Errorf(roster.EINVALID, "the scope group %s was not found under the search bases; check its DN (nobody was removed)", dn)
		}
	}
	return out, nil
}

// errRunTimeout is the cause of a run stopped by its run timeout.
func errRunTimeout(limit time.Duration) error {
	return roster.Errorf(roster.EUNAVAILABLE, "the run did not finish within %s, the run timeout (-run-timeout, or the source's run_timeout); the directory answered too slowly", limit)
}

// lookUp reads what the store holds for a page's accepted records: the
// digests of their users, keyed by anchor, and the users holding the
// logins that are new to them, keyed by login. A digest a user first: an
// entry whose fingerprint its user kept costs no user load, and an
// unchanged page no more than this query. Only a new user or a new login
// can clash with another user's login, so an unchanged directory costs
// no login lookups. A source that had no user has nothing to find (see
// fresh): both are empty.
func (r *runner) lookUp(ctx context.Context, recs []*roster.Record) (map[string]roster.UserDigest, map[string]string, error) {
	if r.fresh {
		return nil, nil, nil
	}
	anchors := make([]string, len(recs))
	for i, rec := range recs {
		anchors[i] = rec.Anchor
	}
	digests, err := r.e.Store.UserDigests(ctx, r.run.SourceID, anchors)
	if err != nil {
		return nil, nil, err
	}
	var logins []string
	for _, rec := range recs {
		if d, ok := digests[rec.Anchor]; !ok || d.Login != rec.Login {
			logins = append(logins, rec.Login)
		}
	}
	var owners map[string]string
	if len(logins) > 0 {
		if owners, err = r.e.Store.LoginOwners(ctx, r.run.SourceID, logins); err != nil {
			return nil, nil, err
		}
	}
	return digests, owners, nil
}
