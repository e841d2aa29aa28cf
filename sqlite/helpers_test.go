package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

// t0 is the fixed clock of every test database.
var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// open returns a new database in a temporary file, its path, and the
// source "corp" in it.
func open(t testing.TB) (db *sqlstore.DB, path string, source int64) {
	t.Helper()
	return openCache(t, 0)
}

// openCache is open with a page cache of cacheKiB for each connection
// (sqlite.OpenCache).
func openCache(t testing.TB, cacheKiB int) (db *sqlstore.DB, path string, source int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "roster.db")
	db, err := sqlite.OpenCache(path, cacheKiB)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	source, err = db.SourceID(context.Background(), "corp")
	if err != nil {
		t.Fatalf("SourceID: %v", err)
	}
	return db, path, source
}

// raw opens a second, plain connection to the file, to look at what the
// DB wrote without going through it.
func raw(t testing.TB, path string) *sql.DB {
	t.Helper()
	r, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	r.SetMaxOpenConns(1)
	t.Cleanup(func() { r.Close() })
	return r
}

func count(t testing.TB, r *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := r.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := roster.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}
