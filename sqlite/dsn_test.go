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
	}{{6144, -6144, 2500}, {0, -2000, 1000}} {
		db, err := sql.Open("sqlite", dsn(path, tt.kib, int(tt.ckpt)))
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

// A sync's WAL is copied into the file at the same size in bytes
// whatever the file's page size: 2,500 pages of 16 KiB (a file roster
// made), 10,000 of 4 KiB (a file made before), 10,000 for a name that is
// no file.
func TestCheckpointPagesFollowThePageSize(t *testing.T) {
	dir := t.TempDir()
	made := filepath.Join(dir, "made.db")
	if err := create(made); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.db")
	r, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`PRAGMA page_size = 4096`, `PRAGMA journal_mode = WAL`} {
		if _, err := r.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	for _, tt := range []struct {
		path string
		want int
	}{{made, 2500}, {old, 10000}, {"file:" + made + "?mode=ro", 10000}, {filepath.Join(dir, "none.db"), 10000}} {
		if got := checkpointPages(tt.path); got != tt.want {
			t.Errorf("checkpointPages(%s) = %d; want %d", tt.path, got, tt.want)
		}
	}
}
