package userbase

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

// Open opens the user base, creating an SQLite one if there is none, and
// brings its schema up to date. The data folder is made in any case: it
// holds the keys.
func (p Place) Open(ctx context.Context) (*sqlstore.DB, error) {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder %s: %w", p.Dir, err)
	}
	if p.Postgres {
		return postgres.Open(ctx, p.DB)
	}
	return openSQLite(p.DB, p.CacheKiB)
}

// OpenToRead opens the user base to read it, or, when there is no SQLite
// file yet, an empty one in memory: a dry run creates no files.
func (p Place) OpenToRead(ctx context.Context) (*sqlstore.DB, error) {
	if p.Postgres {
		return postgres.Open(ctx, p.DB)
	}
	if _, err := os.Stat(p.DB); errors.Is(err, fs.ErrNotExist) {
		return sqlite.Open(":memory:")
	}
	return openSQLite(p.DB, p.CacheKiB)
}

// OpenExisting opens a user base that must exist already, as one to back
// up: a typo must not back up a new, empty one.
//
// Errors: EINVALID when there is no SQLite file there.
func (p Place) OpenExisting(ctx context.Context) (*sqlstore.DB, error) {
	if p.Postgres {
		return postgres.Open(ctx, p.DB)
	}
	if _, err := os.Stat(p.DB); err != nil {
		return nil, roster.Errorf(roster.EINVALID, "no user base to back up at %s (%v); give -data or -db", p.DB, err)
	}
	return OpenSQLite(p.DB)
}

// OpenSQLite opens (creating if needed) an SQLite user base, private to
// its owner: the database files 0600, even in a folder that existed
// before.
func OpenSQLite(path string) (*sqlstore.DB, error) { return openSQLite(path, 0) }

// openSQLite is OpenSQLite with a page cache of cacheKiB a connection (0:
// SQLite's default).
func openSQLite(path string, cacheKiB int) (*sqlstore.DB, error) {
	db, err := sqlite.OpenCache(path, cacheKiB)
	if err != nil {
		return nil, fmt.Errorf("cannot open the user base %s: %w", path, err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("cannot make %s private: %w", f, err)
		}
	}
	return db, nil
}

// OpenOther opens the user base at loc, a PostgreSQL URL or an SQLite
// file that must exist already, to copy it into p's: a typo must not
// create an empty file and copy nothing.
//
// Errors: EINVALID when loc names p's user base, or no file.
func (p Place) OpenOther(ctx context.Context, loc string) (*sqlstore.DB, error) {
	if same(loc, p.DB) {
		return nil, roster.Errorf(roster.EINVALID, "-from and -db name the same user base")
	}
	if postgres.IsDSN(loc) {
		return postgres.Open(ctx, loc)
	}
	if _, err := os.Stat(loc); err != nil {
		return nil, roster.Errorf(roster.EINVALID, "-from %s: %v", loc, err)
	}
	return OpenSQLite(loc)
}

// same reports whether two store locations name the same thing, for a
// file by its absolute path.
func same(a, b string) bool {
	if postgres.IsDSN(a) || postgres.IsDSN(b) {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
