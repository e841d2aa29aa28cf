// Package sqlite opens roster's embedded store: the user base, groups and
// runs in one SQLite file, through modernc.org/sqlite (pure Go, no cgo).
// The queries are package sqlstore's, shared with PostgreSQL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// migration holds the schema's steps; postgres has a step of the same
// name for each.
//
//go:embed migration/*.sql
var migration embed.FS

// Dialect is SQLite's: "?" placeholders, and LIKE, which ignores ASCII
// case only.
var Dialect = sqlstore.Dialect{Name: "sqlite", Like: "LIKE", JSONLists: true, InProcess: true,
	// 64 MiB for bulk work (sqlstore's bulk connection), against
	// SQLite's default of about 2 MiB (-2000 KiB), which roster keeps
	// otherwise: with 25,000 codes a batch, 100,000 first print codes
	// took 7.5 s with the default cache and 5.3 s with this one kept
	// from batch to batch (bench/printcodes: 10.9 s before, 5.4 s after).
	BulkCache: "PRAGMA cache_size = -65536",
	// A first sync into an empty user base writes its users with none of
	// these, and builds them after (sqlstore.DeferIndexes): each is written
	// at random when anchors, logins, card numbers or print codes come in
	// no order, and SQLite builds an index over written rows by sorting
	// them. The sync looks nothing up meanwhile (its source has no user),
	// and the two unique ones bind nobody else while away (see
	// sqlstore.DB.DeferIndexes).
	// Time for a first sync's writes (sqlite's BenchmarkApplyFirstSync,
	// anchors, logins and card numbers in no order, build included):
	// 1,000,000 users took 17.8 s with all three of anchor, login and card
	// number deferred, 30.5 s with the login kept, 28.6 s with the card
	// number kept, 52.2 s with only the login deferred, 71.0 s with none
	// (100,000: 1.78 s against 2.23-2.29 s). The print-code
	// index: a first sync of 1,000,000 lab users took 66.6 s with it
	// kept, 50.6 s without (bench/sync). Bulk print codes look each code
	// up in it, so they build what is missing first
	// (sqlstore.DB.BuildIndexes).
	Deferrable: []sqlstore.Deferred{
		sqlstore.SettlesAnchors(sqlstore.DeferredIndex("CREATE UNIQUE INDEX users_source_anchor ON users (source_id, anchor)")),
		sqlstore.DeferredIndex("CREATE INDEX users_login_source ON users (login, source_id)"),
		sqlstore.DeferredIndex("CREATE INDEX users_dn_key ON users (dn_key)"),
		sqlstore.DeferredIndex("CREATE INDEX users_source ON users (source_id)"),
		sqlstore.SettlesCardNumbers(sqlstore.DeferredIndex("CREATE UNIQUE INDEX cards_number ON cards (number)")),
		sqlstore.DeferredIndex("CREATE INDEX cards_user ON cards (user_id, origin)"),
		sqlstore.DeferredIndex("CREATE INDEX users_print_code ON users (print_code_hash) WHERE print_code_hash <> ''"),
	},
	SchemaNames: "SELECT name FROM sqlite_master WHERE type = 'index'",
	KeysOff:     "PRAGMA foreign_keys = OFF",
	KeysOn:      "PRAGMA foreign_keys = ON",
	KeyCheck:    "PRAGMA foreign_key_check",
}

// Open opens the database at path with SQLite's default page cache: see
// OpenCache.
func Open(path string) (*sqlstore.DB, error) { return OpenCache(path, 0) }

// OpenCache opens the database at path, creating the file (and its
// folder) if needed, and brings its schema up to date. Each connection
// keeps up to cacheKiB of pages in its cache, or SQLite's default (about
// 2 MiB) for 0; with a cache of its own it also checkpoints the WAL less
// often (syncCheckpointPages). Every connection runs with foreign keys on and a busy timeout of 5 s; the file is put in WAL mode.
// Write transactions take the write lock when they begin, so two writers
// wait for each other instead of failing half-way.
//
// path ":memory:" gives a private in-memory database on one connection,
// for tests.
func OpenCache(path string, cacheKiB int) (*sqlstore.DB, error) {
	if path == "" {
		return nil, errNoPath()
	}
	memory := strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory")
	if !memory && !strings.HasPrefix(path, "file:") {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create the folder of %s: %w", path, err)
		}
	}
	sqldb, err := sql.Open("sqlite", dsn(path, cacheKiB))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if memory {
		// Each connection to :memory: is a database of its own: one,
		// never closed while the database is open.
		sqlstore.Pool(sqldb, 1, 0)
	} else {
		sqlstore.Pool(sqldb, 8, 5*time.Minute)
	}
	d := Dialect
	if memory {
		// Its one connection is the database: never set apart for bulk
		// work, never closed while open. Its pages are in memory anyway.
		d.BulkCache = ""
	}
	db := sqlstore.New(sqldb, d, path)
	if err := db.Migrate(context.Background(), Migrations()); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// syncCheckpointPages is how many pages the WAL of a connection with a
// cache of its own (a sync's) takes before the connection copies them
// into the file, against SQLite's 1,000: each of a first sync's batches
// rewrites much the same index pages, which a checkpoint after every
// batch copied each time. A first sync of 100,000 users took 4.7 to 5.0 s
// instead of 4.9 to 5.9 s, in pairs side by side; the WAL grows to 40 MB
// at most before it is copied, and is removed when the last connection
// closes.
const syncCheckpointPages = 10000

// dsn is the driver's name of the database at path: its file, and what
// every connection sets when it opens.
func dsn(path string, cacheKiB int) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate"
	if cacheKiB > 0 {
		dsn += fmt.Sprintf("&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(%d)", cacheKiB, syncCheckpointPages)
	}
	return dsn
}

// Migrations returns the schema's steps.
func Migrations() fs.FS { return sqlstore.Steps(migration, "migration") }

func errNoPath() *roster.Error {
	e := roster.Errorf(roster.EINVALID, "the database path is empty; give a file such as /var/lib/roster/roster.db")
	e.Op = "sqlite.Open"
	return e
}
