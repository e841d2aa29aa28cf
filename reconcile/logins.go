package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
)

// An entry deleted and made again (an account re-created, a restore
// without its old objectGUID or entryUUID) comes back with its login and
// a new anchor, while the old user still holds the login. The old user
// then gives the login up, when the directory no longer has it:
//
//   - this run did not return its entry (not even as a bad entry, nor
//     outside the group scope), and
//   - after this run's removals it is disabled as missing, or deleted.
//
// In a full run, a user gone from the directory is disabled as missing
// by the removals just before, unless they are held for approval. An
// incremental run proves no absence: there only a user the directory
// reports deleted gives its login up; the next full sync settles the rest. A user an admin
// disabled keeps its login: a sync does not touch an admin's users.
//
// The user giving up its login is renamed to formerLogin (its login, a
// tilde and its anchor) and keeps the login among its former logins; the
// new holder takes it in the same transaction.

// waitingLogin is an entry whose login a user this run had not returned
// holds: owner is that user's anchor, cur the entry's own stored user.
type waitingLogin struct {
	rec   roster.Record
	owner string
	cur   *roster.User
}

// maxNamedLogins bounds the logins a note names.
const maxNamedLogins = 10

// holds reports whether the run holds the removal of the user of this
// ID (Run.HeldUsers, in ID order).
func (r *runner) holds(id int64) bool {
	_, ok := slices.BinarySearch(r.run.HeldUsers, id)
	return ok
}

// takeLogins settles the waiting entries, once every entry is read and
// the removals are done: each takes its login, or is an entry error that
// says why not.
func (r *runner) takeLogins(ctx context.Context) error {
	if len(r.waiting) == 0 {
		return nil
	}
	// A dry run writes nothing: its removals are in its plan only.
	planned := map[string]roster.Kind{}
	for anchor, p := range r.plannedRemovals {
		if !r.holds(p.id) {
			planned[anchor] = p.kind
		}
	}
	// The owners are loaded a batch at a time, and each batch's records
	// dropped once settled: a directory restored with new anchors makes
	// every entry wait, and loading 100,000 owners at once took more
	// memory than the rest of the run.
	for batch := range slices.Chunk(r.waiting, 1000) {
		anchors := make([]string, len(batch))
		for i, w := range batch {
			anchors[i] = w.owner
		}
		owners, err := r.e.Store.UsersByAnchor(ctx, r.run.SourceID, anchors)
		if err != nil {
			return err
		}
		for _, w := range batch {
			if err := r.settle(ctx, w, owners[w.owner], planned); err != nil {
				return err
			}
		}
		clear(batch)
	}
	r.waiting = nil
	if n := len(r.givenUp); n > 0 {
		names := strings.Join(r.givenUp[:min(n, maxNamedLogins)], ", ")
		if n > maxNamedLogins {
			names += fmt.Sprintf(" and %d more", n-maxNamedLogins)
		}
		r.run.Notes = append(r.run.Notes, fmt.Sprintf(
			"%d logins went from users the directory no longer has to entries made again with the same login (%s): the former holders keep them as former logins, and a sign-in by the login finds the new holder",
			n, names))
	}
	return nil
}

// settle gives the waiting entry w its login, held by u (nil when no
// user holds it any more), or records the entry error that says why not.
// planned maps, in a dry run, the anchors of the removals it plans to
// their kind.
func (r *runner) settle(ctx context.Context, w waitingLogin, u *roster.User, planned map[string]roster.Kind) error {
	rec := w.rec
	var changes []roster.Change
	switch {
	case r.markOf(w.owner) >= accepted, u == nil, u.Login != rec.Login, planned[w.owner] == roster.Delete:
		// Renamed away or deleted meanwhile: the login is free.
	case r.markOf(w.owner) != 0 || r.outOfScope[w.owner]:
		r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: errLoginTaken(rec.Login)})
		return nil
	case u.Disabled && u.DisabledReason == roster.DisabledByAdmin:
		r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: errLoginAdmin(rec.Login, u)})
		return nil
	case u.Disabled && u.DisabledReason == roster.DisabledMissing && (r.run.Mode != roster.RunIncremental || r.gone[w.owner]),
		planned[w.owner] == roster.Disable:
		// An incremental run proves no absence, and "disabled as
		// missing" is also what a user outside the group scope gets
		// while its entry lives on: there only a deletion the
		// directory reports frees the login.
		changes = append(changes, giveUp(u, rec.DN))
	case r.holds(u.ID):
		r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: errLoginHeld(rec.Login, u)})
		return nil
	default: // an incremental run, or one that removes nobody
		r.entryError(roster.EntryError{DN: rec.DN, Anchor: rec.Anchor, Message: errLoginNotYet(rec.Login, u)})
		return nil
	}
	var err error
	if rec.Cards, err = r.claimCards(ctx, &rec); err != nil {
		return err
	}
	r.claim(&rec)
	ch := diff(&rec, w.cur, r.e.HashCode, r.src.DisabledUsers)
	if ch == nil {
		if w.cur == nil { // a disabled entry, skipped by policy: the login stays
			r.run.Skipped++
			r.skipped(&rec)
		} else {
			r.stored(&rec)
		}
		return nil
	}
	if len(changes) > 0 {
		r.givenUp = append(r.givenUp, rec.Login)
	}
	ch.Fingerprint = fingerprint(&rec, r.codeHash(&rec))
	changes = append(changes, *ch)
	r.see(rec.Anchor, accepted)
	if ch.Kind == roster.Create {
		r.see(rec.Anchor, created)
	}
	for _, c := range changes {
		r.count(c.Kind)
	}
	// One transaction: the login changes hands, or stays.
	return r.apply(ctx, changes)
}

// giveUp is the change by which u, gone from the directory, gives its
// login up to the entry at dn: renamed to its formerLogin, it keeps the
// login as a former one.
func giveUp(u *roster.User, dn string) roster.Change {
	next := *u
	next.Login = formerLogin(u)
	return roster.Change{Kind: roster.Rename, Login: next.Login, OldLogin: u.Login, DN: u.DN, User: &next,
		Reason: "gone from the directory; its login went to " + dn,
		Fields: []roster.FieldChange{{Field: "login", Before: u.Login, After: next.Login}}}
}

// formerLogin is the login of a user that gave its login up: unique in
// the source (the anchor is), and shown as what it is.
func formerLogin(u *roster.User) string { return u.Login + "~" + u.Anchor }

// isFormerLogin reports whether u holds a formerLogin.
func isFormerLogin(u *roster.User) bool { return strings.HasSuffix(u.Login, "~"+u.Anchor) }

// Entry errors for a login another user holds.

func errLoginTaken(login string) string {
	return fmt.Sprintf("the login %s already belongs to another roster user of this source, whose entry the directory still returns; this entry was left unchanged", login)
}

func errLoginAdmin(login string, holder *roster.User) string {
	return fmt.Sprintf("the login %s belongs to the roster user with ID %d, whom an admin disabled and the directory no longer returns; a sync does not change an admin's users, so this entry was left unchanged until that user is deleted or enabled again", login, holder.ID)
}

func errLoginHeld(login string, holder *roster.User) string {
	return fmt.Sprintf("the login %s belongs to the roster user with ID %d, whom the directory no longer returns and whose removal is held for approval; this entry takes the login once the removals are approved (roster sync -approve-removals)", login, holder.ID)
}

func errLoginNotYet(login string, holder *roster.User) string {
	return fmt.Sprintf("the login %s belongs to the roster user with ID %d, whom this run did not return but did not remove either (an incremental run cannot tell a departed entry from an unchanged one); the next full sync gives the login to this entry if that user is gone", login, holder.ID)
}
