package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rosterhq/roster"
)

// StartRun stores run as a new run of run.SourceID, with status running,
// and sets run.ID and run.Status. A zero run.StartedAt is set to now.
func (db *DB) StartRun(ctx context.Context, run *roster.Run) error {
	run.Status = roster.RunRunning
	if run.StartedAt.IsZero() {
		run.StartedAt = db.now()
	}
	notes, err := notesValue(run.Notes)
	if err != nil {
		return fmt.Errorf("store: start run: %w", err)
	}
	err = db.inTx(ctx, "start run", func(t *tx) error {
		return t.QueryRowContext(ctx, `INSERT INTO runs (source_id, mode, status, started_at,
			seen, created, updated, renamed, disabled, reenabled, deleted, skipped, failed, held, error, notes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			run.SourceID, string(run.Mode), string(run.Status), timeValue(run.StartedAt),
			run.Seen, run.Created, run.Updated, run.Renamed, run.Disabled, run.Reenabled, run.Deleted,
			run.Skipped, run.Failed, run.Held, run.Error, notes).Scan(&run.ID)
	})
	if err != nil {
		return fmt.Errorf("store: start run of source %d: %w", run.SourceID, err)
	}
	return nil
}

// FinishRun stores the end of the run run.ID: its status, counts (the
// held group and membership removals included), error and notes, and replaces its entry errors and held users with those of
// run, in one transaction. A zero run.FinishedAt is set to now.
//
// Errors: EINVALID when run.Status is running or empty; ENOTFOUND when no
// run has this ID.
func (db *DB) FinishRun(ctx context.Context, run *roster.Run) error {
	if run.Status == roster.RunRunning || run.Status == "" {
		return errRunNotDone(run.ID)
	}
	notes, err := notesValue(run.Notes)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", run.ID, err)
	}
	finished := run.FinishedAt
	if finished.IsZero() {
		finished = db.now()
	}
	err = db.inTx(ctx, "finish run", func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = ?,
			seen = ?, created = ?, updated = ?, renamed = ?, disabled = ?, reenabled = ?, deleted = ?,
			skipped = ?, failed = ?, held = ?, held_groups = ?, held_memberships = ?, error = ?, notes = ?
			WHERE id = ?`,
			string(run.Status), timeValue(finished),
			run.Seen, run.Created, run.Updated, run.Renamed, run.Disabled, run.Reenabled, run.Deleted,
			run.Skipped, run.Failed, run.Held, run.HeldGroups, run.HeldMemberships, run.Error, notes, run.ID)
		if err != nil {
			return fmt.Errorf("store: finish run %d: %w", run.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: finish run %d: %w", run.ID, err)
		} else if n == 0 {
			return errRunNotFound("FinishRun", run.ID)
		}
		if err := finishRunDetails(ctx, tx, run); err != nil {
			return fmt.Errorf("store: finish run %d: %w", run.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	run.FinishedAt = finished
	return nil
}

func finishRunDetails(ctx context.Context, tx *tx, run *roster.Run) error {
	for _, q := range []string{
		`DELETE FROM run_entry_errors WHERE run_id = ?`,
		`DELETE FROM run_held_users WHERE run_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, run.ID); err != nil {
			return err
		}
	}
	if len(run.EntryErrors) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO run_entry_errors (run_id, dn, anchor, message) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range run.EntryErrors {
			if _, err := stmt.ExecContext(ctx, run.ID, e.DN, e.Anchor, e.Message); err != nil {
				return fmt.Errorf("entry error of %s: %w", e.DN, err)
			}
		}
	}
	if len(run.HeldUsers) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO run_held_users (run_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range run.HeldUsers {
			if _, err := stmt.ExecContext(ctx, run.ID, id); err != nil {
				return fmt.Errorf("held user %d: %w", id, err)
			}
		}
	}
	return nil
}

// HeldRemovals returns what the source's latest run with status held
// held: its ID, its held users in ID order, and its counts of held group
// and membership removals (Run.HeldGroups, Run.HeldMemberships). A later
// full run of the source that succeeded clears the hold: that run either
// applied the removals (an approval) or found them below the threshold
// and applied them itself, so nothing is held any more. Incremental and
// preview runs cannot find users gone, so their success says nothing
// about a hold and does not clear it. With no such run, HeldRemovals
// returns the zero Hold.
func (db *DB) HeldRemovals(ctx context.Context, sourceID int64) (roster.Hold, error) {
	var h roster.Hold
	err := db.db.QueryRowContext(ctx, `SELECT r.id, r.held_groups, r.held_memberships FROM runs r
		WHERE r.source_id = ? AND r.status = ?
		AND NOT EXISTS (SELECT 1 FROM runs later WHERE later.source_id = r.source_id
			AND later.id > r.id AND later.status = ? AND later.mode = ?)
		ORDER BY r.id DESC LIMIT 1`,
		sourceID, string(roster.RunHeld), string(roster.RunSucceeded), string(roster.RunFull)).Scan(&h.RunID, &h.Groups, &h.Memberships)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Hold{}, nil
	}
	if err != nil {
		return roster.Hold{}, fmt.Errorf("store: held removals of source %d: %w", sourceID, err)
	}
	if h.Users, err = heldUsers(ctx, db.db, h.RunID); err != nil {
		return roster.Hold{}, fmt.Errorf("store: held removals of source %d: %w", sourceID, err)
	}
	return h, nil
}

func heldUsers(ctx context.Context, q querier, runID int64) ([]int64, error) {
	return queryIDList(ctx, q, `SELECT user_id FROM run_held_users WHERE run_id = ? ORDER BY user_id`, runID)
}

// queryIDList runs a query whose rows are one ID each, and returns them
// in their order.
func queryIDList(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, closeRows(rows)
}

const runColumns = `id, source_id, mode, status, started_at, finished_at, seen, created, updated,
	renamed, disabled, reenabled, deleted, skipped, failed, held, held_groups, held_memberships, error, notes`

func scanRun(row interface{ Scan(...any) error }) (*roster.Run, error) {
	var r roster.Run
	var notes sql.NullString
	err := row.Scan(&r.ID, &r.SourceID, &r.Mode, &r.Status, timeCol{&r.StartedAt}, timeCol{&r.FinishedAt},
		&r.Seen, &r.Created, &r.Updated, &r.Renamed, &r.Disabled, &r.Reenabled, &r.Deleted,
		&r.Skipped, &r.Failed, &r.Held, &r.HeldGroups, &r.HeldMemberships, &r.Error, &notes)
	if err != nil {
		return nil, err
	}
	if notes.Valid {
		if err := json.Unmarshal([]byte(notes.String), &r.Notes); err != nil {
			return nil, fmt.Errorf("notes of run %d: %w", r.ID, err)
		}
	}
	return &r, nil
}

// notesValue stores notes as a JSON array, and no notes as NULL.
func notesValue(notes []string) (any, error) { return jsonValue(notes, len(notes)) }

// Runs returns up to limit runs, newest first: those of the source, or of
// every source when sourceID is 0. A limit of 0 or less means all. The
// runs carry their counts, error and notes, not their entry errors or held
// users; Run returns those.
func (db *DB) Runs(ctx context.Context, sourceID int64, limit int) ([]*roster.Run, error) {
	if limit <= 0 {
		limit = noLimit
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs
		WHERE CAST(? AS BIGINT) = 0 OR source_id = ? ORDER BY id DESC LIMIT ?`, sourceID, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	var runs []*roster.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	return runs, nil
}

// LatestRun returns the latest run of sourceID in one of modes, without
// its entry errors and held users, or nil when there is none.
func (db *DB) LatestRun(ctx context.Context, sourceID int64, modes ...roster.RunMode) (*roster.Run, error) {
	args := []any{sourceID}
	for _, m := range modes {
		args = append(args, string(m))
	}
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs
		WHERE source_id = ? AND mode IN (`+placeholders(len(modes))+`) ORDER BY id DESC LIMIT 1`, args...))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("store: latest run of source %d: %w", sourceID, err)
	}
	return r, nil
}

// Run returns the run with this ID, with its entry errors (in the order
// they were stored) and held users (by ID).
//
// Errors: ENOTFOUND when no run has this ID.
func (db *DB) Run(ctx context.Context, id int64) (*roster.Run, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errRunNotFound("Run", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: run %d: %w", id, err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT dn, anchor, message FROM run_entry_errors WHERE run_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: run %d: %w", id, err)
	}
	for rows.Next() {
		var e roster.EntryError
		if err := rows.Scan(&e.DN, &e.Anchor, &e.Message); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: run %d: %w", id, err)
		}
		r.EntryErrors = append(r.EntryErrors, e)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: run %d: %w", id, err)
	}
	if r.HeldUsers, err = heldUsers(ctx, db.db, id); err != nil {
		return nil, fmt.Errorf("store: run %d: %w", id, err)
	}
	return r, nil
}

// AbandonRunning marks as failed every run still recorded as running
// whose source no live lease covers, and returns how many it marked. A
// live lease means a node, perhaps another one sharing the database, is
// running that source: its run is left alone. roster serve calls it when
// it starts and at every scheduler look, so a dead node's run does not
// stay "running" until the next sync of its source.
func (db *DB) AbandonRunning(ctx context.Context) (int64, error) {
	var n int64
	err := db.inTx(withoutFence(ctx), "close abandoned runs", func(t *tx) error {
		now, err := db.clock(ctx, t)
		if err != nil {
			return err
		}
		res, err := t.ExecContext(ctx, `UPDATE runs SET status = 'failed', error = ?, finished_at = ?
			WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM sync_leases l
				WHERE l.source_id = runs.source_id AND l.expires_at > ?)`,
			abandoned, timeValue(db.now()), timeValue(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: close abandoned runs: %w", err)
	}
	return n, nil
}

// RunCounts returns how many runs ended with each status, over all time.
func (db *DB) RunCounts(ctx context.Context) (map[roster.RunStatus]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM runs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("store: run counts: %w", err)
	}
	defer rows.Close()
	out := map[roster.RunStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: run counts: %w", err)
		}
		out[roster.RunStatus(st)] = n
	}
	return out, rows.Err()
}
