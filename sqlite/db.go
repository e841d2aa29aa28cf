// Package sqlite is roster's embedded store: the user base, groups and
// runs in one SQLite file, through modernc.org/sqlite (pure Go, no cgo).
//
// A DB implements reconcile.Store for the sync engine, and adds the
// queries the CLI needs (FindUsers, UserByLogin, Runs, ...). Errors that
// an admin can act on are *roster.Error with code ENOTFOUND, ECONFLICT or
// EINVALID; the rest are wrapped with "sqlite: <what>".
package sqlite

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/rosterhq/roster/reconcile"
)

var _ reconcile.Store = (*DB)(nil)

// maxParams bounds the values bound to one IN (...) list.
const maxParams = 500

// DB is an open roster database.
type DB struct {
	db   *sql.DB
	path string

	// Now is the clock that stamps users, runs and sources. It defaults to
	// time.Now; tests replace it.
	Now func() time.Time

	// Sealer encrypts source passwords at rest (AES-GCM). Without it,
	// sources with a password can be neither saved nor read.
	Sealer cipher.AEAD
}

// Open opens the database at path, creating the file (and its folder) if
// needed, and brings its schema up to date. Every connection runs with
// foreign keys on and a busy timeout of 5 s; the file is put in WAL mode.
// Write transactions take the write lock when they begin, so two writers
// wait for each other instead of failing half-way.
//
// path ":memory:" gives a private in-memory database on one connection,
// for tests.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errNoPath()
	}
	memory := strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory")
	if !memory && !strings.HasPrefix(path, "file:") {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create the folder of %s: %w", path, err)
		}
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if memory {
		// Each connection to :memory: is a database of its own.
		sqldb.SetMaxOpenConns(1)
	} else {
		sqldb.SetMaxOpenConns(8)
	}
	db := &DB{db: sqldb, path: path, Now: time.Now}
	if err := db.migrate(context.Background()); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database. Calls that are still running fail.
func (db *DB) Close() error {
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", db.path, err)
	}
	return nil
}

// now returns the clock's time in UTC.
func (db *DB) now() time.Time { return db.Now().UTC() }

// inTx runs fn in a write transaction and commits it when fn returns nil.
func (db *DB) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", what, err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// timeFormat is RFC 3339 with a fixed nine-digit fraction, so stored
// times of the same zone (always UTC) sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// timeValue stores t as UTC text, and the zero time as NULL.
func timeValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// jsonValue stores v, of length n, as JSON text, and as NULL when n is 0.
func jsonValue(v any, n int) (any, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// timeCol scans a column written by timeValue; NULL gives the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("sqlite: time column holds %T", src)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlite: time column: %w", err)
	}
	*c.t = t
	return nil
}
