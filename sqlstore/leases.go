package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster"
)

// abandoned is recorded on runs whose node died, or lost its lease,
// while they went on. Writes made under the lease stay; the lease's
// fence kept the node from writing after it.
const abandoned = "the roster node running this sync stopped before it ended (its lease ran out); what it wrote until then is kept, and the next run picks up from the directory"

// died starts the reason recorded on runs whose process was proved dead
// (TakeOverLease); diedRun gives the whole reason. Users are created and
// changed page by page as the directory is read, while removals (of
// users, groups and memberships), new groups and the incremental cursor
// are written only after the last page.
const died = "the roster process running this sync ("

func diedRun(holder string) string {
	who := holder
	if p, ok := roster.ParseProcess(holder); ok {
		who = fmt.Sprintf("PID %d on %s", p.PID, p.Host)
	}
	return died + who + ") ended before the sync did (it was killed, or it crashed); " +
		"the users it created or changed until then are kept, and it removed nobody, no group and no membership " +
		"unless it had read the directory to the end (those changes come last); the next run picks up from the directory"
}

// fence is a sync's claim that its writes are made under a lease.
type fence struct {
	sourceID int64
	holder   string
}

type fenceKey struct{}

// WithFence returns a context under which every write transaction of
// the store first checks that holder still holds the lease of sourceID,
// and fails with ECONFLICT, writing nothing, when it does not: a node
// that lost its lease (paused, or cut off from the database, while
// another node took over) cannot write over the new holder's work. On
// PostgreSQL the check also locks the lease row until the transaction
// ends, so a take-over waits for a write in flight.
func WithFence(ctx context.Context, sourceID int64, holder string) context.Context {
	return context.WithValue(ctx, fenceKey{}, fence{sourceID, holder})
}

// withoutFence is ctx without a fence: the lease's own bookkeeping and
// the sweep of abandoned runs must not be refused by the fence they keep.
func withoutFence(ctx context.Context) context.Context {
	return context.WithValue(ctx, fenceKey{}, nil)
}

func (db *DB) checkFence(ctx context.Context, t *tx, f fence) error {
	now, err := db.clock(ctx, t)
	if err != nil {
		return err
	}
	var until time.Time
	err = t.QueryRowContext(ctx, `SELECT expires_at FROM sync_leases WHERE source_id = ? AND holder = ?`+db.d.ShareLock,
		f.sourceID, f.holder).Scan(timeCol{&until})
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && !until.After(now):
		return errLeaseLost(db.sourceName(ctx, t, f.sourceID), f.holder)
	case err != nil:
		return fmt.Errorf("store: check the lease of source %d: %w", f.sourceID, err)
	}
	return nil
}

// sourceName names a source in a message, by its ID when the name cannot
// be read.
func (db *DB) sourceName(ctx context.Context, t *tx, id int64) string {
	var name string
	if t.QueryRowContext(ctx, `SELECT name FROM sources WHERE id = ?`, id).Scan(&name) != nil {
		return fmt.Sprintf("with the ID %d", id)
	}
	return name
}

// AcquireLease gives holder the right to sync sourceID until now+ttl. It
// takes the lease when nobody holds it or the holder's lease ran out, and
// extends it when holder has it already. Taking it afresh marks the
// source's runs still recorded as running as failed (see Lease.Abandoned).
//
// Both steps happen in one transaction, and the take itself is a single
// conditional upsert, so two nodes that try at once cannot both win.
//
// Errors: ECONFLICT, naming the holder and the end of its lease, when
// another holder has a lease that has not run out.
func (db *DB) AcquireLease(ctx context.Context, sourceID int64, holder string, ttl time.Duration) (*roster.Lease, error) {
	var l *roster.Lease
	err := db.inTx(withoutFence(ctx), "acquire lease", func(t *tx) error {
		var err error
		l, err = db.acquire(ctx, t, sourceID, holder, ttl)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// TakeOverLease is AcquireLease for a caller that proved the process
// dead, the lease's holder, has ended (see roster.Process): when the
// lease still names dead, holder takes it at once, whether or not it ran
// out, and the source's runs still recorded as running are marked failed
// with a reason that names the dead process and what such a run may
// have written (Lease.Abandoned counts them, Lease.TakenFrom is dead).
// When the lease no longer names dead (it was released, or taken by
// someone else meanwhile), it does exactly what AcquireLease does. The
// store cannot check that dead has ended: a live holder named as dead
// loses its lease, and its fence stops its writes.
//
// The take is one conditional update on the row naming dead, so of two
// processes that take over the same dead holder at once, one wins and
// the other is refused as by AcquireLease.
//
// Errors: those of AcquireLease.
func (db *DB) TakeOverLease(ctx context.Context, sourceID int64, dead, holder string, ttl time.Duration) (*roster.Lease, error) {
	var l *roster.Lease
	err := db.inTx(withoutFence(ctx), "take over lease", func(t *tx) error {
		now, err := db.clock(ctx, t)
		if err != nil {
			return err
		}
		res, err := t.ExecContext(ctx, `UPDATE sync_leases SET holder = ?, acquired_at = ?, expires_at = ?
			WHERE source_id = ? AND holder = ? AND holder <> ?`,
			holder, timeValue(now), timeValue(now.Add(ttl)), sourceID, dead, holder)
		if err != nil {
			return fmt.Errorf("store: take over the lease of source %d: %w", sourceID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: take over the lease of source %d: %w", sourceID, err)
		} else if n == 0 {
			l, err = db.acquire(ctx, t, sourceID, holder, ttl)
			return err
		}
		l = &roster.Lease{SourceID: sourceID, Holder: holder, AcquiredAt: now, Expires: now.Add(ttl), TakenFrom: dead}
		l.Abandoned, err = db.closeAbandoned(ctx, t, sourceID, diedRun(dead), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// acquire is AcquireLease inside t.
func (db *DB) acquire(ctx context.Context, t *tx, sourceID int64, holder string, ttl time.Duration) (*roster.Lease, error) {
	l := &roster.Lease{SourceID: sourceID, Holder: holder}
	now, err := db.clock(ctx, t)
	if err != nil {
		return nil, err
	}
	l.Expires = now.Add(ttl)
	err = t.QueryRowContext(ctx, `INSERT INTO sync_leases (source_id, holder, acquired_at, expires_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (source_id) DO UPDATE SET
			acquired_at = CASE WHEN sync_leases.holder = excluded.holder THEN sync_leases.acquired_at ELSE excluded.acquired_at END,
			holder = excluded.holder,
			expires_at = excluded.expires_at
		WHERE sync_leases.holder = excluded.holder OR sync_leases.expires_at <= ?
		RETURNING acquired_at`,
		sourceID, holder, timeValue(now), timeValue(l.Expires), timeValue(now)).Scan(timeCol{&l.AcquiredAt})
	if errors.Is(err, sql.ErrNoRows) {
		var other, name string
		var until time.Time
		if err := t.QueryRowContext(ctx, `SELECT l.holder, l.expires_at, s.name FROM sync_leases l
			JOIN sources s ON s.id = l.source_id WHERE l.source_id = ?`, sourceID).
			Scan(&other, timeCol{&until}, &name); err != nil {
			return nil, fmt.Errorf("store: lease of source %d: %w", sourceID, err)
		}
		return nil, errLeaseHeld(name, other, until)
	}
	if err != nil {
		return nil, fmt.Errorf("store: lease of source %d: %w", sourceID, err)
	}
	if !l.AcquiredAt.Equal(now) {
		return l, nil // a renewal: the holder's own run may be going on
	}
	l.Abandoned, err = db.closeAbandoned(ctx, t, sourceID, abandoned, now)
	return l, err
}

// closeAbandoned marks the runs of sourceID still recorded as running as
// failed, for why, when a lease is taken afresh: only a lease holder runs
// a source, so their process has ended.
func (db *DB) closeAbandoned(ctx context.Context, t *tx, sourceID int64, why string, now time.Time) (int64, error) {
	res, err := t.ExecContext(ctx, `UPDATE runs SET status = 'failed', error = ?, finished_at = ?
		WHERE source_id = ? AND status = 'running'`, why, timeValue(now), sourceID)
	if err != nil {
		return 0, fmt.Errorf("store: lease of source %d: close abandoned runs: %w", sourceID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: lease of source %d: close abandoned runs: %w", sourceID, err)
	}
	return n, nil
}

// RenewLease extends holder's lease of sourceID to now+ttl.
//
// Errors: ECONFLICT when holder no longer has the lease: it ran out
// (whether or not another node took it since), or it was released. The
// holder must then stop.
func (db *DB) RenewLease(ctx context.Context, sourceID int64, holder string, ttl time.Duration) (time.Time, error) {
	var until time.Time
	err := db.inTx(withoutFence(ctx), "renew lease", func(t *tx) error {
		now, err := db.clock(ctx, t)
		if err != nil {
			return err
		}
		until = now.Add(ttl)
		res, err := t.ExecContext(ctx, `UPDATE sync_leases SET expires_at = ? WHERE source_id = ? AND holder = ? AND expires_at > ?`,
			timeValue(until), sourceID, holder, timeValue(now))
		if err != nil {
			return fmt.Errorf("store: renew the lease of source %d: %w", sourceID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: renew the lease of source %d: %w", sourceID, err)
		} else if n == 0 {
			return errLeaseLost(db.sourceName(ctx, t, sourceID), holder)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return until, nil
}

// ReleaseLease ends holder's lease of sourceID, so that any node may sync
// it at once. Releasing a lease that holder no longer has does nothing.
func (db *DB) ReleaseLease(ctx context.Context, sourceID int64, holder string) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM sync_leases WHERE source_id = ? AND holder = ?`, sourceID, holder); err != nil {
		return fmt.Errorf("store: release the lease of source %d: %w", sourceID, err)
	}
	return nil
}

// LeaseHolder returns who holds the lease of sourceID and until when.
//
// Errors: ENOTFOUND when nobody holds it, or the lease ran out.
func (db *DB) LeaseHolder(ctx context.Context, sourceID int64) (string, time.Time, error) {
	var holder string
	var until time.Time
	// Two plain reads: on SQLite a transaction would wait for a sync's
	// write lock.
	now, err := db.clock(ctx, db.db)
	if err == nil {
		err = db.db.QueryRowContext(ctx, `SELECT holder, expires_at FROM sync_leases WHERE source_id = ?`, sourceID).
			Scan(&holder, timeCol{&until})
	}
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && !until.After(now):
		return "", time.Time{}, roster.Errorf(roster.ENOTFOUND, "no roster node is syncing the source with the ID %d", sourceID)
	case err != nil:
		return "", time.Time{}, fmt.Errorf("store: lease of source %d: %w", sourceID, err)
	}
	return holder, until, nil
}

// LastRunStart returns when the latest run of sourceID in one of modes
// started, not counting runs abandoned by a dead node (a lease that ran
// out, or TakeOverLease), or the zero time
// when there is none. Schedulers on several
// nodes use it to run each planned slot once.
func (db *DB) LastRunStart(ctx context.Context, sourceID int64, modes ...roster.RunMode) (time.Time, error) {
	if len(modes) == 0 {
		return time.Time{}, nil
	}
	args := []any{sourceID}
	for _, m := range modes {
		args = append(args, string(m))
	}
	var t time.Time
	// A run its node abandoned, or whose process died, did not do its
	// slot's work: it does not count, so that another node runs the slot.
	err := db.db.QueryRowContext(ctx, `SELECT started_at FROM runs WHERE source_id = ? AND mode IN (`+placeholders(len(modes))+`)
		AND NOT (status = 'failed' AND (error = ? OR error LIKE ?))
		ORDER BY id DESC LIMIT 1`, append(args, abandoned, died+"%")...).Scan(timeCol{&t})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: last run of source %d: %w", sourceID, err)
	}
	return t, nil
}
