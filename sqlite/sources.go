package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rosterhq/roster"
)

// SourceID returns the ID of the source with this name, creating its row
// when there is none yet. Source settings live in the configuration; the
// row only gives users, groups and runs a stable ID to point to.
//
// Errors: EINVALID when name is empty.
func (db *DB) SourceID(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, errNoSourceName()
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO sources (name, created_at) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, name, timeValue(db.now())); err != nil {
		return 0, fmt.Errorf("sqlite: source %s: %w", name, err)
	}
	var id int64
	if err := db.db.QueryRowContext(ctx, `SELECT id FROM sources WHERE name = ?`, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("sqlite: source %s: %w", name, err)
	}
	return id, nil
}

// LookupSourceID returns the ID of the source with this name without
// creating it, for a dry run, which writes nothing.
//
// Errors: ENOTFOUND when no source has that name.
func (db *DB) LookupSourceID(ctx context.Context, name string) (int64, error) {
	var id int64
	err := db.db.QueryRowContext(ctx, `SELECT id FROM sources WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, roster.Errorf(roster.ENOTFOUND, "no source is named %s", name)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: source %s: %w", name, err)
	}
	return id, nil
}
