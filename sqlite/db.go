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
	// and the two unique ones bind nobody else while away:
	//   - one anchor a user of a source: only the sync that holds the
	//     source's lease writes its users, and it drops a second sight of
	//     an anchor itself;
	//   - one holder a card number: the sync drops a number a second entry
	//     lists. A writer beside it (a card added by hand, a first sync of
	//     another source begun at the same instant) checks its own numbers
	//     by reading the table, but the sync does not see theirs; a number
	//     both wrote stays with the first, as the index would have kept
	//     it, and the later holder's fingerprint is forgotten, so that the
	//     next full sync compares it whole and reports the clash.
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
		// Should two users of a source ever share an anchor (nothing
		// that writes users lets them), each later one keeps its row and
		// all it holds, under an anchor marked with both IDs (so that
		// three twins part too): the next full sync finds it missing and
		// disables it, as any user it does not return.
		settledBy(sqlstore.DeferredIndex("CREATE UNIQUE INDEX users_source_anchor ON users (source_id, anchor)"),
			"%d users shared the anchor of an earlier user of their source; each keeps its row, its anchor marked \"(user N, twin of user M)\", and the next full sync disables it as missing",
			`UPDATE users SET fingerprint = 0, anchor = users.anchor || ' (user ' || users.id || ', twin of user ' || f.first || ')'
				FROM (SELECT source_id, anchor, MIN(id) AS first FROM users WHERE source_id IS NOT NULL
					GROUP BY source_id, anchor HAVING COUNT(*) > 1) AS f
				WHERE users.source_id = f.source_id AND users.anchor = f.anchor AND users.id <> f.first`),
		sqlstore.DeferredIndex("CREATE INDEX users_login_source ON users (login, source_id)"),
		sqlstore.DeferredIndex("CREATE INDEX users_dn_key ON users (dn_key)"),
		sqlstore.DeferredIndex("CREATE INDEX users_source ON users (source_id)"),
		settledBy(sqlstore.DeferredIndex("CREATE UNIQUE INDEX cards_number ON cards (number)"),
			"%d cards were stored a second time under a number another user held; each number stays with its first holder, and the next full sync of the other holder's source says so",
			`UPDATE users SET fingerprint = 0 WHERE id IN (SELECT user_id FROM cards
				WHERE id NOT IN (SELECT MIN(id) FROM cards GROUP BY number))`,
			`DELETE FROM cards WHERE id NOT IN (SELECT MIN(id) FROM cards GROUP BY number)`),
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

// settledBy gives the unique index d the statements that settle what
// was written twice while it was away, and their note (sqlstore.Deferred).
func settledBy(d sqlstore.Deferred, note string, dedupe ...string) sqlstore.Deferred {
	d.Dedupe, d.Settled = dedupe, note
	return d
}

// Migrations returns the schema's steps.
func Migrations() fs.FS { return sqlstore.Steps(migration, "migration") }

func errNoPath() *roster.Error {
	e := roster.Errorf(roster.EINVALID, "the database path is empty; give a file such as /var/lib/roster/roster.db")
	e.Op = "sqlite.Open"
	return e
}
