package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// Every connection of a database opened with a cache takes that cache
// (and the rest of what roster sets), and one opened without keeps
// SQLite's default.
func TestEachConnectionTakesTheCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	for _, tt := range []struct {
		kib  int
		want int64
	}{{6144, -6144}, {0, -2000}} {
		db, err := sql.Open("sqlite", dsn(path, tt.kib))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(2)
		// Two connections at once: the pragma is the connection's.
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []interface {
			QueryRow(string, ...any) *sql.Row
		}{tx, db} {
			var cache, fk int64
			if err := q.QueryRow("PRAGMA cache_size").Scan(&cache); err != nil {
				t.Fatal(err)
			}
			if err := q.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if cache != tt.want || fk != 1 {
				t.Errorf("with %d KiB: cache_size %d, foreign_keys %d; want %d and 1", tt.kib, cache, fk, tt.want)
			}
		}
		tx.Rollback()
		db.Close()
	}
}
