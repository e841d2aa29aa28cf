// Package postgres opens roster's shared store on PostgreSQL, through
// github.com/jackc/pgx/v5, for several roster nodes that serve one user
// base. The queries are package sqlstore's, shared with SQLite; both pass
// the conformance suite sqlstore/storetest.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// migration holds the schema's steps, one for each of SQLite's, under the
// same names.
//
//go:embed migration/*.sql
var migration embed.FS

// migrationLock is the advisory lock key that serialises schema steps
// when several nodes start at once ("roster" in ASCII).
const migrationLock = 0x726f73746572

// Dialect is PostgreSQL's: numbered placeholders, and ILIKE, which on
// the C-collated columns (login, name, email) ignores the case of ASCII
// letters only, as SQLite's LIKE does: "émile" does not find "Émile".
var Dialect = sqlstore.Dialect{
	Name:           "postgres",
	Numbered:       true,
	Like:           "ILIKE",
	Arrays:         true,
	Lateral:        true,
	Analyze:        "ANALYZE users, cards, user_aliases",
	ClockQuery:     "SELECT now()",
	PrintCodeLock:  fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLock+1),
	CardLock:       fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLock+2),
	Snapshot:       sql.LevelRepeatableRead,
	ShareLock:      " FOR SHARE",
	LockMigrations: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLock),
	ResetSequence:  "SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))",
	CopyIn:         copyIn,
	Denied:         func(err error) bool { var pe *pgconn.PgError; return errors.As(err, &pe) && pe.Code == "42501" },
	NewIDs:         "SELECT nextval(pg_get_serial_sequence('%s', 'id')) FROM generate_series(1, ?)",
	// A copy costs three round trips more than an INSERT (the IDs, the
	// savepoint and its release) and saves about 9 µs of the server's
	// time a row: on loopback they break even near 50 rows, over a LAN
	// later.
	CopyMin: 100,
	// A first sync into an empty user base writes its users without these,
	// and makes them after (sqlstore.DeferIndexes), as on SQLite (see
	// there, and sqlstore.SettlesAnchors and SettlesCardNumbers for the
	// two unique rules).
	//   - The foreign keys: PostgreSQL checks a key row by row, with a
	//     query and a lock on the parent row each. A first sync of 100,000
	//     lab users took 11.8-12.0 s with them, 7.1-7.7 s without (three
	//     pairs), and adding both after took 0.07 s.
	//   - The indexes, the two unique ones included: each row's insert
	//     goes into every one of them, three at random (anchor, login,
	//     DN). A first sync of 100,000 lab users took 4.23 s with all of
	//     them away against 5.02 s with only the keys away, and 4.75 s
	//     with the keys and the two unique rules (medians of 4 runs,
	//     alternating); building them took 0.4-0.5 s of that. The store
	//     alone (BenchmarkApplyFirstSync, random anchors, logins and
	//     numbers): 1,000,000 users in 27.0 s against 44.9 s, 100,000 in
	//     2.85-2.90 s against 3.57-3.61 s.
	// Each build that the dedupe of a unique index may follow takes its
	// tables first, in the order Apply does (users, then cards), and in a
	// mode that keeps writers out but lets readers read (the terminals of
	// every node): the dedupe writes them, and then nothing else holds
	// them. Step 015 made the two unique rules indexes of their own, which
	// a build makes under that same lock, where adding a constraint to a
	// table takes it from readers too.
	Deferrable: []sqlstore.Deferred{
		sqlstore.DeferredForeignKey("users", "users_source_id_fkey", "FOREIGN KEY (source_id) REFERENCES sources(id)",
			"LOCK TABLE users, sources IN SHARE ROW EXCLUSIVE MODE", ""),
		sqlstore.DeferredForeignKey("cards", "cards_user_id_fkey", "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
			"LOCK TABLE users, cards IN SHARE ROW EXCLUSIVE MODE",
			"DELETE FROM cards WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = cards.user_id)"),
		lockedBy("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE",
			sqlstore.SettlesAnchors(sqlstore.DeferredIndex("CREATE UNIQUE INDEX users_source_anchor ON users (source_id, anchor)"))),
		sqlstore.DeferredIndex("CREATE INDEX users_login_source ON users (login, source_id)"),
		sqlstore.DeferredIndex("CREATE INDEX users_dn_key ON users (dn_key)"),
		sqlstore.DeferredIndex("CREATE INDEX users_source ON users (source_id, id)"),
		lockedBy("LOCK TABLE users, cards IN SHARE ROW EXCLUSIVE MODE",
			sqlstore.SettlesCardNumbers(sqlstore.DeferredIndex("CREATE UNIQUE INDEX cards_number ON cards (number)"))),
		sqlstore.DeferredIndex("CREATE INDEX cards_user ON cards (user_id, origin)"),
		sqlstore.DeferredIndex("CREATE INDEX users_print_code ON users (print_code_hash) WHERE print_code_hash <> ''"),
	},
	// The names are looked up by table, the tables found as ALTER TABLE
	// finds them (the search path), whatever schema that is.
	SchemaNames: `SELECT conname FROM pg_constraint WHERE conrelid IN ('users'::regclass, 'cards'::regclass)
		UNION ALL SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid IN ('users'::regclass, 'cards'::regclass)`,
	// Dropping a key locks both of its tables against every reader: a
	// first sync that would wait for another node's long transaction keeps
	// its keys instead (and says so), rather than stall the terminals that
	// queue behind its wait.
	DeferLocks: []string{
		"SET LOCAL lock_timeout = '2s'",
		"LOCK TABLE users, cards, sources IN ACCESS EXCLUSIVE MODE",
	},
}

// copyIn is Dialect.CopyIn: COPY FROM STDIN in pgx's binary form, on the
// pgx connection under driverConn. Rows that break an integrity rule
// (SQLSTATE class 23: a unique index, a key, NOT NULL) wrap
// sqlstore.ErrCopyRefused.
func copyIn(ctx context.Context, driverConn any, table string, columns []string, n int, row func(int) []any) (int64, error) {
	c, ok := driverConn.(*stdlib.Conn)
	if !ok {
		return 0, fmt.Errorf("copy into %s: the connection is a %T, not pgx's", table, driverConn)
	}
	wrote, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns,
		pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") {
		return wrote, fmt.Errorf("%w: %s (SQLSTATE %s)", sqlstore.ErrCopyRefused, pe.Message, pe.Code)
	}
	return wrote, err
}

// lockedBy gives d the Lock lock (see sqlstore.Deferred).
func lockedBy(lock string, d sqlstore.Deferred) sqlstore.Deferred {
	d.Lock = lock
	return d
}

// IsDSN reports whether s names a PostgreSQL database rather than a file:
// a postgres:// or postgresql:// URL.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact names the database dsn points to, for messages and logs, as
// postgres://user@host:port/database: no password, no other option
// (sslpassword and the like). A DSN that does not parse is not echoed.
func Redact(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "postgres://(a database URL that does not parse)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", url.PathEscape(cfg.User), cfg.Host, cfg.Port, url.PathEscape(cfg.Database))
}

// LooksLikeKeywords reports whether s is a libpq keyword/value string
// ("host=db user=roster password=…"), which roster does not take: it
// would otherwise be mistaken for a file name.
func LooksLikeKeywords(s string) bool {
	for _, k := range []string{"host=", "dbname=", "user=", "password=", "port=", "sslmode="} {
		if strings.HasPrefix(s, k) || strings.Contains(s, " "+k) {
			return true
		}
	}
	return false
}

// Open connects to the database dsn names (a postgres:// URL, with the
// options libpq takes, such as sslmode) and brings its schema up to date.
// The connection is checked at once, so a wrong address or password is
// reported here, in words that never contain the password.
func Open(ctx context.Context, dsn string) (*sqlstore.DB, error) { return open(ctx, dsn, Dialect) }

// open is Open in dialect d.
func open(ctx context.Context, dsn string, d sqlstore.Dialect) (*sqlstore.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errBadDSN(dsn)
	}
	where := Redact(dsn)
	// Plan each statement for its values. pgx prepares statements, and
	// after five runs PostgreSQL would keep a generic plan made when the
	// tables were small (a first sync fills them): it then scans every
	// user to find 500 anchors, 100 times slower than the index.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	sqldb := stdlib.OpenDB(*cfg)
	sqlstore.Pool(sqldb, 8, 5*time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		sqldb.Close()
		return nil, errConnect(where, cfg, err)
	}
	db := sqlstore.New(sqldb, d, where)
	if err := db.Migrate(ctx, Migrations()); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Migrations returns the schema's steps.
func Migrations() fs.FS { return sqlstore.Steps(migration, "migration") }

func errBadDSN(dsn string) *roster.Error {
	// pgx's parse errors quote the URL: only the URL parser's own reason
	// (an invalid port, say) is given, never the URL.
	why := ""
	var ue *url.Error
	if _, perr := url.Parse(dsn); errors.As(perr, &ue) && ue.Err != nil {
		why = " (" + ue.Err.Error() + ")"
	}
	e := roster.Errorf(roster.EINVALID, "the PostgreSQL URL does not parse%s; write it as postgres://user@host:5432/database?sslmode=verify-full, with the password in PGPASSWORD or ~/.pgpass (characters such as @, : or / in a password must be percent-encoded)", why)
	e.Op = "postgres.Open"
	return e
}

func errConnect(where string, cfg *pgx.ConnConfig, err error) *roster.Error {
	msg := err.Error()
	if cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "xxxxx")
	}
	var e *roster.Error
	switch {
	case strings.Contains(msg, "password authentication failed"), strings.Contains(msg, "SQLSTATE 28P01"):
		e = roster.Errorf(roster.EUNAUTHORIZED, "PostgreSQL at %s refused the login %s: wrong password, or no such role", where, cfg.User)
	case strings.Contains(msg, "SQLSTATE 3D000"):
		e = roster.Errorf(roster.ENOTFOUND, "PostgreSQL at %s has no database %s; create it with: createdb -O %s %s", where, cfg.Database, cfg.User, cfg.Database)
	case strings.Contains(msg, "SQLSTATE 28000"):
		e = roster.Errorf(roster.EFORBIDDEN, "PostgreSQL at %s does not let %s in from here (pg_hba.conf): %s", where, cfg.User, msg)
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(msg, "connection refused"), strings.Contains(msg, "timeout"):
		e = roster.Errorf(roster.EUNAVAILABLE, "cannot reach PostgreSQL at %s: %s", where, msg)
	default:
		e = roster.Errorf(roster.EUNAVAILABLE, "cannot open PostgreSQL at %s: %s", where, msg)
	}
	e.Op = "postgres.Open"
	return e
}

// Raw opens a plain connection pool to dsn, for tools and tests that look
// at the database without the store.
func Raw(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errBadDSN(dsn)
	}
	return stdlib.OpenDB(*cfg), nil
}
