package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Where the dialect copies (Dialect.CopyIn: PostgreSQL), Apply writes its
// new users, and the directory cards of its new and updated users, in one
// stream a table, not in INSERTs of arrays, when they are Dialect.CopyMin
// or more. The database then parses no array and no text time, and checks
// no ON CONFLICT: 100,000 users copied in batches of 2,000 rows took
// 0.33-0.39 s of PostgreSQL's CPU and 0.52-0.57 s of time, against
// 1.12-1.26 s and 1.44-1.63 s for the same rows in INSERT ... SELECT FROM
// unnest of 500 (a test program on the lab's database, two rounds each).
//
// A copy skips nothing: a row that breaks a unique rule fails it whole.
// Each copy therefore runs inside a savepoint, and when the database
// refuses a row (ErrCopyRefused) Apply undoes the copy and writes the
// same rows the plain way, which skips what it may skip and names what
// it may not (an anchor taken, a card number held by someone else).
// A first sync, whose unique indexes are away (DeferIndexes), never falls
// back; a sync of a few new users among many falls back only when one of
// them clashes.

// copies reports whether Apply copies n rows into a table.
func (a *applier) copies(n int) bool {
	return a.tx.conn != nil && a.tx.d.CopyIn != nil && n >= max(1, a.tx.d.CopyMin)
}

// errNoNewIDs is wrapped by newIDs' error when the database refused them.
var errNoNewIDs = errors.New("the database gives this role no new IDs")

// copyCreates copies the users of changes[creates] in one stream, with
// IDs it takes first, in the order of creates, and records them in ids.
// It returns false, having written nothing, when Apply does not copy so
// few, or the database refused a row or the IDs: the caller then inserts
// them. IDs denied to the role (Dialect.Denied) are denied for good
// (DB.noNewIDs); refused otherwise, for this batch.
func (a *applier) copyCreates(changes []roster.Change, creates []int, ids []int64) (bool, error) {
	if !a.copies(len(creates)) || a.db.noNewIDs.Load() {
		return false, nil
	}
	if err := twinAnchor(changes, creates); err != nil {
		return false, err
	}
	// Each row: its ID, taken below, then userCols.
	rows := make([][]any, len(creates))
	now := copyTime(a.at)
	for k, i := range creates {
		row, err := a.userValues(make([]any, 1, 1+userColN), changes[i], copyTime, now)
		if err != nil {
			return false, err
		}
		rows[k] = row
	}
	undone, err := a.inSavepoint(func() error {
		newIDs, err := a.newIDs("users", len(creates))
		if err != nil {
			return err
		}
		for k := range rows {
			rows[k][0] = newIDs[k]
		}
		return a.tx.copyIn(a.ctx, "users", copyUserCols, len(rows), func(k int) []any { return rows[k] })
	})
	if err != nil {
		return false, fmt.Errorf("store: apply: create %d users: %w", len(creates), err)
	}
	if undone != nil {
		if errors.Is(undone, errNoNewIDs) && a.tx.d.Denied != nil && a.tx.d.Denied(undone) {
			a.db.noNewIDs.Store(true)
		}
		return false, nil
	}
	for k, i := range creates {
		ids[i] = rows[k][0].(int64)
	}
	for chunk := range slices.Chunk(creates, createBatch) {
		if err := a.freeLogins(changes, chunk, ids); err != nil {
			return false, err
		}
	}
	return true, nil
}

// copyCards copies the directory cards of cards in one stream. It
// returns false, having written nothing, when Apply does not copy or the
// database refused a row (a number held already): the caller then
// inserts them, skipping or naming the holder.
func (a *applier) copyCards(cards []cardRow) (bool, error) {
	if !a.copies(len(cards)) {
		return false, nil
	}
	undone, err := a.inSavepoint(func() error {
		row := make([]any, 5)
		return a.tx.copyIn(a.ctx, "cards", []string{"user_id", "number", "kind", "origin", "expires_at"}, len(cards), func(k int) []any {
			r := cards[k]
			row[0], row[1], row[2], row[3], row[4] = r.id, r.card.Number, string(r.card.Kind), string(roster.CardFromDirectory), copyTime(r.card.ExpiresAt)
			return row
		})
	})
	if err != nil {
		return false, fmt.Errorf("store: apply: store %d cards: %w", len(cards), err)
	}
	return undone == nil, nil
}

// inSavepoint runs fn inside a savepoint. When fn's error wraps
// ErrCopyRefused or errNoNewIDs, it rolls fn's writes back and returns
// that error as undone, and a nil err: the transaction goes on.
func (a *applier) inSavepoint(fn func() error) (undone, err error) {
	if _, err := a.tx.ExecContext(a.ctx, "SAVEPOINT apply_copy"); err != nil {
		return nil, err
	}
	err = fn()
	if errors.Is(err, ErrCopyRefused) || errors.Is(err, errNoNewIDs) {
		undone = err
		if _, err := a.tx.ExecContext(a.ctx, "ROLLBACK TO SAVEPOINT apply_copy"); err != nil {
			return nil, errors.Join(err, undone)
		}
	} else if err != nil {
		return nil, err
	}
	if _, err := a.tx.ExecContext(a.ctx, "RELEASE SAVEPOINT apply_copy"); err != nil {
		return nil, err
	}
	return undone, nil
}

// newIDs takes n new IDs of table from its counter (Dialect.NewIDs), in
// increasing order. An error of the database's (not of the context's)
// wraps errNoNewIDs.
func (a *applier) newIDs(table string, n int) (ids []int64, err error) {
	defer func() {
		if err != nil && a.ctx.Err() == nil { // the context's own: runTx says so
			err = fmt.Errorf("%w (%w)", errNoNewIDs, err)
		}
	}()
	if ids, err = queryIDList(a.ctx, a.tx, fmt.Sprintf(a.tx.d.NewIDs, table), n); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("%d new IDs of %s asked for, %d given", n, table, len(ids))
	}
	slices.Sort(ids)
	return ids, nil
}

// copyUserCols are the columns copyCreates writes: the ID, then userCols.
var copyUserCols = append([]string{"id"}, strings.Split(strings.Join(strings.Fields(userCols), ""), ",")...)

// copyTime is a time as CopyIn takes it: to the microsecond, as
// timeValue stores it, and nil for the zero time.
func copyTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}
