// Package sqlite opens roster's embedded store: the user base, groups and
// runs in one SQLite file, through modernc.org/sqlite (pure Go, no cgo).
// The queries are package sqlstore's, shared with PostgreSQL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// Dialect is SQLite's: "?" placeholders, LIKE, which ignores ASCII case
// only, and index hints.
var Dialect = sqlstore.Dialect{Name: "sqlite", Like: "LIKE", IndexHints: true, JSONLists: true,
	// 64 MiB for bulk work (sqlstore's bulk connection), against
	// SQLite's default of about 2 MiB (-2000 KiB), which roster keeps
	// otherwise: with 25,000 codes a batch, 100,000 first print codes
	// took 7.5 s with the default cache and 5.3 s with this one kept
	// from batch to batch (bench/printcodes: 10.9 s before, 5.4 s after).
	BulkCache: "PRAGMA cache_size = -65536",
	// A first sync looks users up by anchor and login (and cards by
	// number): these four serve the console's lists, the groups and the
	// terminals' print codes, and are built after (sqlstore.DeferIndexes).
	// The print-code index is written at random (the codes' hashes): a
	// first sync of 1,000,000 lab users took 66.6 s with it kept, 50.6 s
	// without, side by side (bench/sync). Bulk print codes look each code
	// up in it, so they build what is missing first
	// (sqlstore.DB.BuildIndexes).
	Deferrable: []sqlstore.Deferred{
		sqlstore.DeferredIndex("CREATE INDEX users_dn_key ON users (dn_key)"),
		sqlstore.DeferredIndex("CREATE INDEX users_source ON users (source_id)"),
		sqlstore.DeferredIndex("CREATE INDEX cards_user ON cards (user_id, origin)"),
		sqlstore.DeferredIndex("CREATE INDEX users_print_code ON users (print_code_hash) WHERE print_code_hash <> ''"),
	},
	SchemaNames: "SELECT name FROM sqlite_master WHERE type = 'index'",
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
	if !memory && !strings.HasPrefix(path, "file:") && !strings.Contains(path, "?") {
		if err := create(path); err != nil {
			return nil, err
		}
	}
	ckpt := 0
	if cacheKiB > 0 {
		ckpt = checkpointPages(path)
	}
	sqldb, err := sql.Open("sqlite", dsn(path, cacheKiB, ckpt))
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

// pageSize is the page size of a database file roster creates, against
// SQLite's 4,096 bytes: fewer pages a row and B-trees of fewer levels.
// By hand, side by side on fresh folders, first syncs of lab users:
//   - 100,000: 3.14–3.56 s (mean 3.41) against 3.45–3.84 s (mean 3.69),
//     eleven pairs; 32 and 64 KiB gained no more; an unchanged sync took
//     the same (1.22–1.47 s against 1.16–1.47 s);
//   - 1,000,000: 41.7–46.0 s against 43.0–45.8 s (four pairs), 119–122
//     MB of RSS against 119–132 MB, 582 MB on disk against 600 MB.
//
// A file made earlier keeps its page size, which only VACUUM changes.
const pageSize = 16384

// create makes the database file at path, with pageSize and in WAL mode,
// when there is none yet. The page size is chosen before the file's first
// page is written, and the driver runs its DSN's pragmas in the order of
// their names: journal_mode, which writes that page, before page_size.
// Two processes creating the file at once is harmless: whichever writes
// the first page sets the size, and WAL mode is the same for both.
func create(path string) error {
	switch st, err := os.Stat(path); {
	case err == nil && st.Size() > 0:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	sqldb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	defer sqldb.Close()
	conn, err := sqldb.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	defer conn.Close()
	for _, pragma := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := conn.ExecContext(context.Background(), pragma); err != nil {
			return fmt.Errorf("sqlite: create %s: %s: %w", path, pragma, err)
		}
	}
	return nil
}

// syncCheckpointBytes is how much the WAL of a connection with a cache of
// its own (a sync's) takes before the connection copies it into the
// file, against SQLite's 1,000 pages (4 MB of 4 KiB pages): each of a
// first sync's batches rewrites much the same index pages, which a
// checkpoint after every batch copied each time. A first sync of 100,000
// users took 4.7 to 5.0 s instead of 4.9 to 5.9 s, in pairs side by side
// (10,000 pages of 4 KiB). SQLite counts it in pages: checkpointPages
// divides it by the file's page size, so that 16 KiB pages do not make
// the WAL four times larger (with the WAL copied every 40 MB, a first
// sync of 100,000 users into 16 KiB pages took 3.42–3.59 s against
// 3.43–3.65 s every 160 MB and 3.74–3.94 s with 4 KiB pages, five rounds
// side by side). It is removed when the last connection closes.
const syncCheckpointBytes = 10000 * 4096

// checkpointPages is syncCheckpointBytes in pages of the file at path,
// from its header (the page size is bytes 16 and 17, big-endian; 1 means
// 65,536). A file it cannot read, such as a "file:" name, counts as
// SQLite's default of 4,096 bytes a page.
func checkpointPages(path string) int {
	size := 4096
	if f, err := os.Open(path); err == nil {
		var h [18]byte
		if _, err := io.ReadFull(f, h[:]); err == nil && string(h[:16]) == "SQLite format 3\x00" {
			switch n := int(binary.BigEndian.Uint16(h[16:])); {
			case n == 1:
				size = 65536
			case n >= 512:
				size = n
			}
		}
		f.Close()
	}
	return syncCheckpointBytes / size
}

// dsn is the driver's name of the database at path: its file, and what
// every connection sets when it opens.
func dsn(path string, cacheKiB, checkpointPages int) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	dsn := path + sep + "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate"
	if cacheKiB > 0 {
		dsn += fmt.Sprintf("&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(%d)", cacheKiB, checkpointPages)
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
