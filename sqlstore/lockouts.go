package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster"
)

const lockoutColumns = `key, subject, failures, first_failure, last_failure, trips, locked_until`

func scanLockout(row interface{ Scan(...any) error }) (roster.Lockout, error) {
	var l roster.Lockout
	err := row.Scan(&l.Key, &l.Subject, &l.Failures, timeCol{&l.FirstFailure}, timeCol{&l.LastFailure}, &l.Trips, timeCol{&l.Until})
	return l, err
}

// Lockout returns key's record, or one with only Key set.
func (db *DB) Lockout(ctx context.Context, key string) (roster.Lockout, error) {
	l, err := scanLockout(db.db.QueryRowContext(ctx, `SELECT `+lockoutColumns+` FROM lockouts WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Lockout{Key: key}, nil
	}
	if err != nil {
		return roster.Lockout{}, fmt.Errorf("store: lockout %s: %w", key, err)
	}
	return l, nil
}

// FailLockout counts one failure of key under p. The row is touched
// first, which takes its lock (PostgreSQL) or the database's (SQLite), so
// that nodes failing the same key at once each count.
func (db *DB) FailLockout(ctx context.Context, key, subject string, p roster.LockoutPolicy, now time.Time) (roster.Lockout, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var l roster.Lockout
	err := db.inTx(ctx, "count a failure", func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lockouts (`+lockoutColumns+`) VALUES (?, ?, 0, NULL, ?, 0, NULL)
			ON CONFLICT (key) DO UPDATE SET subject = excluded.subject`, key, subject, timeValue(now)); err != nil {
			return err
		}
		old, err := scanLockout(tx.QueryRowContext(ctx, `SELECT `+lockoutColumns+` FROM lockouts WHERE key = ?`, key))
		if err != nil {
			return err
		}
		l = p.Fail(old, now)
		_, err = tx.ExecContext(ctx, `UPDATE lockouts SET failures = ?, first_failure = ?, last_failure = ?, trips = ?, locked_until = ?
			WHERE key = ?`, l.Failures, timeValue(l.FirstFailure), timeValue(l.LastFailure), l.Trips, timeValue(l.Until), key)
		return err
	})
	if err != nil {
		return roster.Lockout{}, fmt.Errorf("store: count a failure of %s: %w", key, err)
	}
	return l, nil
}

// ClearLockout forgets key's failures and lock.
func (db *DB) ClearLockout(ctx context.Context, key string) (bool, error) {
	res, err := db.db.ExecContext(ctx, `DELETE FROM lockouts WHERE key = ?`, key)
	if err != nil {
		return false, fmt.Errorf("store: clear the lockout %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Lockouts lists the records, newest failure first, at most limit.
func (db *DB) Lockouts(ctx context.Context, limit int) ([]roster.Lockout, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+lockoutColumns+` FROM lockouts ORDER BY last_failure DESC, key LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: lockouts: %w", err)
	}
	defer rows.Close()
	var ls []roster.Lockout
	for rows.Next() {
		l, err := scanLockout(rows)
		if err != nil {
			return nil, fmt.Errorf("store: lockouts: %w", err)
		}
		ls = append(ls, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: lockouts: %w", err)
	}
	return ls, nil
}

var _ roster.LockoutStore = (*DB)(nil)
