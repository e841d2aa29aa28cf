package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster"
)

// Cursor returns the source's saved cursor, or a zero one.
func (db *DB) Cursor(ctx context.Context, sourceID int64) (roster.Cursor, error) {
	var c roster.Cursor
	err := db.db.QueryRowContext(ctx, `SELECT kind, server, value, scope FROM sync_cursors WHERE source_id = ?`, sourceID).
		Scan(&c.Kind, &c.Server, &c.Value, &c.Scope)
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Cursor{}, nil
	}
	if err != nil {
		return roster.Cursor{}, fmt.Errorf("store: cursor of source %d: %w", sourceID, err)
	}
	return c, nil
}

// SaveCursor replaces the source's cursor; a zero cursor removes it.
func (db *DB) SaveCursor(ctx context.Context, sourceID int64, c roster.Cursor) error {
	err := db.inTx(ctx, "save cursor", func(t *tx) error {
		return saveCursor(ctx, t, sourceID, c, db.now())
	})
	if err != nil {
		return fmt.Errorf("store: save cursor of source %d: %w", sourceID, err)
	}
	return nil
}

// saveCursor replaces the source's cursor in t, saved at at; a zero
// cursor removes it.
func saveCursor(ctx context.Context, t *tx, sourceID int64, c roster.Cursor, at time.Time) error {
	if c.IsZero() {
		_, err := t.ExecContext(ctx, `DELETE FROM sync_cursors WHERE source_id = ?`, sourceID)
		return err
	}
	_, err := t.ExecContext(ctx, `INSERT INTO sync_cursors (source_id, kind, server, value, scope, saved_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (source_id) DO UPDATE SET kind = excluded.kind, server = excluded.server,
			value = excluded.value, scope = excluded.scope, saved_at = excluded.saved_at`,
		sourceID, string(c.Kind), c.Server, c.Value, c.Scope, timeValue(at))
	return err
}
