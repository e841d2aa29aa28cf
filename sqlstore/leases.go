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
	l := &roster.Lease{SourceID: sourceID, Holder: holder}
	var now time.Time
	err := db.inTx(withoutFence(ctx), "acquire lease", func(t *tx) error {
		var err error
		if now, err = db.clock(ctx, t); err != nil {
			return err
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
				return fmt.Errorf("store: lease of source %d: %w", sourceID, err)
			}
			return errLeaseHeld(name, other, until)
		}
		if err != nil {
			return fmt.Errorf("store: lease of source %d: %w", sourceID, err)
		}
		if !l.AcquiredAt.Equal(now) {
			return nil // a renewal: the holder's own run may be going on
		}
		res, err := t.ExecContext(ctx, `UPDATE runs SET status = 'failed', error = ?, finished_at = ?
			WHERE source_id = ? AND status = 'running'`, abandoned, timeValue(now), sourceID)
		if err != nil {
			return fmt.Errorf("store: lease of source %d: close abandoned runs: %w", sourceID, err)
		}
		l.Abandoned, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
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
// started, not counting runs abandoned by a dead node, or the zero time
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
	// A run its node abandoned did not do its slot's work: it does not
	// count, so that another node runs the slot.
	err := db.db.QueryRowContext(ctx, `SELECT started_at FROM runs WHERE source_id = ? AND mode IN (`+placeholders(len(modes))+`)
		AND NOT (status = 'failed' AND error = ?)
		ORDER BY id DESC LIMIT 1`, append(args, abandoned)...).Scan(timeCol{&t})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("store: last run of source %d: %w", sourceID, err)
	}
	return t, nil
}
