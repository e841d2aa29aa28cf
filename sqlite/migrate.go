package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// migrations are the schema's steps, applied in name order. A step, once
// released, is never edited: change the schema with a new file.
//
//go:embed migration/*.sql
var migrations embed.FS

// migrate applies the steps that the migrations table does not list yet,
// each in its own transaction together with its row in that table.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)`); err != nil {
		return fmt.Errorf("sqlite: create the migrations table in %s: %w", db.path, err)
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	step := path.Base(name)
	return db.inTx(ctx, "migration "+step, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, step).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", step, err)
		}
		if n > 0 {
			return nil
		}
		buf, err := fs.ReadFile(migrations, name)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", step, err)
		}
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", step, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name) VALUES (?)`, step); err != nil {
			return fmt.Errorf("sqlite: migration %s: record it: %w", step, err)
		}
		return nil
	})
}
