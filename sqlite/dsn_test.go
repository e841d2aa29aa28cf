package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// Every connection of a database opened with a cache takes that cache,
// and a sync's checkpoint interval (and the rest of what roster sets),
// and one opened without keeps SQLite's defaults.
func TestEachConnectionTakesTheCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	for _, tt := range []struct {
		kib        int
		want, ckpt int64
	}{{6144, -6144, syncCheckpointPages}, {0, -2000, 1000}} {
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
			var cache, fk, ckpt int64
			if err := q.QueryRow("PRAGMA cache_size").Scan(&cache); err != nil {
				t.Fatal(err)
			}
			if err := q.QueryRow("PRAGMA wal_autocheckpoint").Scan(&ckpt); err != nil {
				t.Fatal(err)
			}
			if err := q.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if cache != tt.want || fk != 1 || ckpt != tt.ckpt {
				t.Errorf("with %d KiB: cache_size %d, foreign_keys %d, wal_autocheckpoint %d; want %d, 1 and %d", tt.kib, cache, fk, ckpt, tt.want, tt.ckpt)
			}
		}
		tx.Rollback()
		db.Close()
	}
}
