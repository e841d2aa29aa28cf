// Package sqlstore is roster's user base on SQL: users, groups, runs,
// sources, cursors, leases and console accounts. The same code serves
// SQLite (package sqlite, embedded) and PostgreSQL (package postgres,
// shared by several nodes); a Dialect carries the few differences.
//
// A DB implements reconcile.Store for the sync engine, and adds the
// queries the CLI and the API need (FindUsers, UserByLogin, Runs, ...).
// It takes the engine's plan as root types (roster.Change) and does not
// import the engine: dependencies point from the engine to the domain,
// not from the store to the engine (imports_test.go in the root checks
// it). The store's tests check that a DB is a reconcile.Store.
// Errors that an admin can act on are *roster.Error with code ENOTFOUND,
// ECONFLICT or EINVALID; the rest are wrapped with "store: <what>".
//
// Both stores pass one conformance suite, sqlstore/storetest.
package sqlstore

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

// noLimit is "no LIMIT" said in a way every database takes (SQLite's -1
// is an error in PostgreSQL).
const noLimit = math.MaxInt32

// maxParams bounds the values bound to one IN (...) list; a lookup list
// (lookupBatch) that falls back to placeholders may bind up to 5,000,
// below SQLite's limit of 32,766.
const maxParams = 500

// Dialect is what differs between the SQL databases roster runs on.
type Dialect struct {
	// Name is the database's name in messages: "sqlite", "postgres".
	Name string
	// Numbered placeholders ($1, $2, ...) instead of "?".
	Numbered bool
	// Like is the case-insensitive LIKE operator.
	Like string
	// LockMigrations, when set, runs first in each migration's
	// transaction, so nodes that start together apply a step once.
	LockMigrations string
	// ResetSequence, when set, is a format with the table's name twice
	// that moves its ID counter past the highest ID, after rows were
	// inserted with their IDs (Copy).
	ResetSequence string
	// Arrays: the database takes a list of values as one array parameter
	// (PostgreSQL's = ANY(?) and unnest). One parameter is far cheaper to
	// bind and plan than hundreds; roster's batched writes and lookups
	// use it where it exists.
	Arrays bool
	// Lateral: the database joins a list to a table one value at a time
	// when asked to (LATERAL), which probe asks of it.
	Lateral bool
	// InProcess: the database runs inside roster (SQLite), so a statement
	// cannot hang on a network, and loops of one-row statements run them
	// under a context that cannot end (see rowContext).
	InProcess bool
	// JSONLists: the database takes a list of values as one JSON array
	// text, read by json_each (SQLite; see in). A sync looks its users up a page
	// at a time; a list of hundreds of placeholders made SQLite parse and
	// plan a new statement of that size for each page.
	JSONLists bool
	// Snapshot is the isolation level that reads every table at one
	// instant (Copy); SQLite's default transaction already does.
	Snapshot sql.IsolationLevel
	// PrintCodeLock, when set, runs first in the transaction that gives a
	// user a print code, so that two at once cannot both find a code free
	// (SQLite's write transactions already take turns).
	PrintCodeLock string
	// CardLock, when set, runs first in the transaction that adds a card
	// by hand (AddCard): two such, on two nodes, then take turns, and
	// the second reads the first's card, even while a first sync has the
	// number's unique index away (DeferIndexes). Where transactions take
	// turns anyway (SQLite's write lock), it is empty.
	CardLock string
	// ClockQuery, when set, reads the database's clock; leases are
	// measured by it (see DB.Now).
	ClockQuery string
	// ShareLock, when set, is appended to the lease check that every
	// write of a sync makes (see WithFence), so that a node taking the
	// lease over waits until a write in flight has committed.
	ShareLock string
	// Analyze, when set, refreshes the planner's statistics of the user
	// tables. Apply runs it whenever the users it created since the last
	// time are three times those there were then: a first sync fills empty
	// tables faster than autovacuum (once a minute) notices, and plans
	// made for empty tables get slower with every page.
	Analyze string
	// BulkCache, when set, raises a connection's page cache for a bulk
	// write (inBulkTx), whose connection is closed after it: the write
	// touches every page of an index, which a small cache reads and
	// writes again and again, while a large cache on every connection of
	// a serving node would cost its memory all the time.
	BulkCache string
	// CopyIn, when set, writes rows into table in one stream (PostgreSQL's
	// COPY), on driverConn, the driver's connection of the transaction in
	// progress, and returns how many it wrote. row(i) returns the values
	// of the i-th of n rows, in the order of columns: text as string,
	// integers as int64, booleans as bool, times as time.Time, NULL as
	// nil. CopyIn is done with one row's values before it asks for the
	// next. A row the table's rules refuse (a unique index, a key) fails
	// the whole copy with an error that wraps ErrCopyRefused.
	//
	// Apply writes its new users, and the directory cards it stores, this
	// way, CopyMin rows or more: the database parses no statement and no
	// array, and skips nothing (see applier.copyCreates). NewIDs returns
	// n new IDs of a table (a format of the table's name, with one
	// parameter, n), which the copy of the users writes with them.
	CopyIn func(ctx context.Context, driverConn any, table string, columns []string, n int, row func(i int) []any) (int64, error)
	NewIDs string
	// Denied, when set, reports whether err is the database refusing the
	// role a privilege: Apply then remembers that it may not take new
	// IDs (NewIDs), where another error (a statement timeout, a cancel
	// by an admin) falls back for the one batch.
	Denied func(err error) bool
	// CopyMin is the fewest rows Apply copies (CopyIn): fewer are
	// inserted, one statement for them all, where a copy would cost
	// round trips of its own (the IDs, the savepoint): a sync of a few
	// changes, or the engine's retry of a refused batch change by change.
	CopyMin int

	// KeysOff, when set, turns a connection's foreign keys off, for the
	// schema steps that ask for it (see keysOff), and KeysOn on again
	// after; KeyCheck lists the rows whose parent is missing, checked
	// before such a step commits. SQLite switches its keys a connection
	// at a time, and only outside a transaction.
	KeysOff, KeysOn, KeyCheck string

	// Deferrable are the indexes and foreign keys that a sync into an
	// empty user base makes after writing its users rather than while
	// (DeferIndexes). None may be named in a hint (INDEXED BY) or an ON
	// CONFLICT clause the dialect runs, and each must be one the sync's own lookups and
	// writes can do without. A unique one may be away only where every
	// writer keeps its rule meanwhile, or its Dedupe settles what they
	// wrote twice as the index would have.
	Deferrable []Deferred
	// SchemaNames lists the names of the indexes and constraints of the
	// tables the deferrable ones are on, to tell which of those are away.
	SchemaNames string
	// DeferLocks, when set, run first in the transaction that drops the
	// deferrable indexes and keys (after LockMigrations): they take the
	// tables' locks in the order Apply takes them, and give up soon when
	// another transaction holds them.
	DeferLocks []string
}

// Deferred is an index or a foreign key in Dialect.Deferrable.
type Deferred struct {
	// Name is its name in the schema.
	Name string
	// Key: a foreign key, not an index.
	Key bool
	// Make makes it, as its schema step did: a CREATE INDEX statement, to
	// the letter, or an ALTER TABLE ... ADD CONSTRAINT that gives a foreign
	// key the definition and the name its CREATE TABLE gave it.
	Make string
	// Drop drops it if it is there.
	Drop string
	// Lock, when set, runs first in the transaction that makes it (after
	// LockMigrations): it takes the locks Make (and Dedupe, which writes)
	// needs in the order Apply takes them (users, then cards), where they
	// alone would take them in another, or ask for more halfway, and
	// could deadlock with a sync's write.
	Lock string
	// Tidy, when set, runs before Make, in its transaction: for a foreign
	// key with ON DELETE CASCADE, it deletes the rows whose parent was
	// deleted while the key was away, as the key would have.
	Tidy string
	// Dedupe, when set, runs only when Make fails, in its transaction,
	// and Make is tried once more: for a unique index, it settles what
	// was written twice while the index was away, as the index would
	// have (keeping the first). Settled is the note for the log, a format
	// of the number of rows its last statement changed.
	Dedupe  []string
	Settled string
}

// DeferredIndex is the Deferred of the index stmt (CREATE [UNIQUE] INDEX
// name ON ...) makes.
func DeferredIndex(stmt string) Deferred {
	f := strings.Fields(stmt)
	if len(f) > 1 && f[1] == "UNIQUE" {
		f = f[1:]
	}
	name := ""
	if len(f) > 2 {
		name = f[2]
	}
	return Deferred{Name: name, Make: stmt, Drop: "DROP INDEX IF EXISTS " + name}
}

// SettlesAnchors gives d, the unique rule "one anchor a user of a source",
// what settles the twins written while it was away. Nothing that writes
// users lets two of a source share an anchor; should it happen, each
// later twin keeps its row and all it holds, under an anchor marked with
// both IDs (so that three twins part too), and the next full sync finds
// it missing and disables it, as any user it does not return.
func SettlesAnchors(d Deferred) Deferred {
	d.Settled = "%d users shared the anchor of an earlier user of their source; each keeps its row, its anchor marked \"(user N, twin of user M)\", and the next full sync disables it as missing"
	d.Dedupe = []string{`UPDATE users SET fingerprint = 0, anchor = users.anchor || ' (user ' || users.id || ', twin of user ' || f.first || ')'
		FROM (SELECT source_id, anchor, MIN(id) AS first FROM users WHERE source_id IS NOT NULL
			GROUP BY source_id, anchor HAVING COUNT(*) > 1) AS f
		WHERE users.source_id = f.source_id AND users.anchor = f.anchor AND users.id <> f.first`}
	return d
}

// SettlesCardNumbers gives d, the unique rule "one holder a card number",
// what settles the numbers stored twice while it was away (by a card
// added by hand, or a first sync of another source, beside a first
// sync): each stays with its first holder, as the rule would have kept
// it, and the later holder's fingerprint is forgotten, so that the next
// full sync of its source compares it whole and reports the clash. A
// card added by hand is no sync's to report: the note says it is gone.
func SettlesCardNumbers(d Deferred) Deferred {
	d.Settled = "%d cards were stored a second time under a number another user held; each number stays with its first holder: the next full sync of the other holder's source says so, and a card added by hand that lost its number is gone (add it again with another)"
	d.Dedupe = []string{
		`UPDATE users SET fingerprint = 0 WHERE id IN (SELECT w.user_id FROM ` + laterHolders + `)`,
		`DELETE FROM cards WHERE id IN (SELECT w.id FROM ` + laterHolders + `)`,
	}
	return d
}

// laterHolders are the cards (w.id, w.user_id) whose number an earlier
// card (lower ID) has. Numbered in one sort of the table: "id NOT IN
// (SELECT MIN(id) ... GROUP BY number)" has PostgreSQL scan the list of
// firsts for every card once it outgrows work_mem (about 150,000 cards),
// for hours at a million. At 1,000,000 cards with two stored twice, this
// took 0.8 s a statement on PostgreSQL, 0.8 s in the sqlite3 shell
// (3.5 s there with NOT IN), and about 2 s through modernc's SQLite.
const laterHolders = `(SELECT id, user_id, ROW_NUMBER() OVER (PARTITION BY number ORDER BY id) AS n FROM cards) AS w WHERE w.n > 1`

// DeferredForeignKey is the Deferred of the foreign key name on table,
// def its definition ("FOREIGN KEY (col) REFERENCES ..."), lock its Lock
// and tidy its Tidy.
func DeferredForeignKey(table, name, def, lock, tidy string) Deferred {
	return Deferred{
		Name: name,
		Key:  true,
		Make: "ALTER TABLE " + table + " ADD CONSTRAINT " + name + " " + def,
		Drop: "ALTER TABLE " + table + " DROP CONSTRAINT IF EXISTS " + name,
		Lock: lock,
		Tidy: tidy,
	}
}

// in returns the condition "col is one of vals" (text or int64) and its
// arguments, with the list as one parameter where the database takes one:
//   - where it takes arrays (PostgreSQL), "col = ANY(?)" with one array, of
//     integers when vals are int64, else of text;
//   - where it reads JSON lists (SQLite), "col IN (SELECT value FROM
//     json_each(?))" with one JSON text, unless a value is not valid UTF-8
//     (JSON would not carry it intact);
//   - else, and for that exception, "col IN (?, ?, ...)".
//
// On PostgreSQL 15, 500 anchors took 3 ms on a connection that had run
// the statement before, whether as = ANY(array) or as an IN list (the
// first run on a new connection, 25 ms either way, loads the catalog);
// the array costs the client one parameter to encode instead of 500, and
// an unchanged sync of 100,000 users 1.08 s of CPU instead of 1.30.
func (d *Dialect) in(col string, vals []any) (string, []any) {
	switch {
	case d.Arrays:
		if len(vals) > 0 {
			if _, ok := vals[0].(int64); ok {
				arr := make([]int64, len(vals))
				for i, v := range vals {
					arr[i] = v.(int64)
				}
				return col + " = ANY(?)", []any{arr}
			}
		}
		return col + " = ANY(?)", []any{texts(vals)}
	case d.JSONLists && jsonSafe(vals):
		if b, err := json.Marshal(vals); err == nil {
			return col + " IN (SELECT value FROM json_each(?))", []any{string(b)}
		}
	}
	return col + " IN (" + placeholders(len(vals)) + ")", vals
}

// probe returns a FROM clause that joins list (keyed's, named j) to the
// rows of table (named u) for which cond holds, cond naming the list's
// value j.value; a query may go on with ORDER BY, not with WHERE. Where
// the dialect has Lateral (PostgreSQL), each value of the list is looked
// up in table's index by itself: told the list's length, PostgreSQL's
// planner would rather read the whole table once and hash it, all the
// more while a first sync grows the table past its statistics. 1,000
// anchors among 100,000 users: 61-100 ms that way, 3.4 ms probed; 1,000
// logins, 9 ms and 1.7 ms. OFFSET 0 keeps the planner from flattening
// the subquery into a plain join.
func (d *Dialect) probe(list, table, cond string) string {
	if d.Lateral {
		return list + " AS j CROSS JOIN LATERAL (SELECT * FROM " + table + " AS u WHERE " + cond + " OFFSET 0) AS u"
	}
	return list + " AS j CROSS JOIN " + table + " AS u WHERE " + cond
}

// keyed returns vals (text) as a table of rows (key, value), key being
// the value's place in vals from 0, and its arguments, as in does: a
// lookup joined to it reads each row's key back, an integer, instead of
// the value's text. SQLite reads the table first when it is joined with
// CROSS JOIN: the lookups then go in the order of vals.
func (d *Dialect) keyed(vals []any) (string, []any) {
	switch {
	case d.Arrays:
		return "(SELECT n - 1 AS key, value FROM unnest(?::text[]) WITH ORDINALITY AS t(value, n))", []any{texts(vals)}
	case d.JSONLists && jsonSafe(vals):
		if b, err := json.Marshal(vals); err == nil {
			return "json_each(?)", []any{string(b)}
		}
	}
	var b strings.Builder
	b.WriteString("(SELECT column1 AS key, column2 AS value FROM (VALUES ")
	for i := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, ?)", i)
	}
	b.WriteString(") AS v)")
	return b.String(), vals
}

// texts returns vals, which are strings, as one array, for a database
// that takes arrays.
func texts(vals []any) []string {
	arr := make([]string, len(vals))
	for i, v := range vals {
		arr[i] = v.(string)
	}
	return arr
}

// jsonSafe says whether JSON carries vals intact: integers, and text that
// is valid UTF-8.
func jsonSafe(vals []any) bool {
	for _, v := range vals {
		switch v := v.(type) {
		case int64:
		case string:
			if !utf8.ValidString(v) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// rowContext returns ctx's error once it has ended, and otherwise the
// context for one statement of a loop of short statements (those
// prepared in a transaction: Apply's, one a row or a user's cards or
// aliases; SaveFingerprints'; print codes'; a run's held users; a sync's
// groups): where the database runs in process, one that cannot end, the
// loop checking ctx before each statement instead (and rowErr after it).
// modernc's SQLite driver watches the context of every statement that
// has one that can end with a goroutine of its own, and sets and clears
// a progress handler: a first sync of 100,000 users ran about 300,000
// such statements, in 3.29 s and 3.8 s of CPU without the watch against
// 4.12 s and 5.6 s with it (medians of 5 alternating runs). Each such
// statement is bounded by its table (the write lock is the transaction's
// from its BEGIN IMMEDIATE); the transaction around the loop still
// begins and commits under ctx.
func (d *Dialect) rowContext(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.InProcess {
		return context.WithoutCancel(ctx), nil
	}
	return ctx, nil
}

// rowErr returns ctx's error in place of err when ctx has ended: a
// statement of a transaction that ctx's end rolled back fails with
// "statement is closed", and the run must know it was cancelled.
func rowErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// lookupBatch is how many values one list of a sync's per-page lookups
// (users by anchor, logins' owners, digests) takes: a page of the
// directory's (1,000) or more in one, where the list is one parameter.
func (d *Dialect) lookupBatch() int {
	if d.JSONLists || d.Arrays {
		return 5000
	}
	return maxParams
}

// DB is an open roster database.
type DB struct {
	db   *sqlDB
	d    Dialect
	name string // where the database is, for messages; never holds a password

	// Now is the clock that stamps users, runs, sources and leases. When
	// nil, the stamps come from time.Now, and leases from the database's
	// own clock where it has one (Dialect.ClockQuery), so that nodes
	// with different clocks agree on when a lease runs out. Tests set it.
	Now func() time.Time

	// Sealer encrypts source passwords at rest (AES-GCM). Without it,
	// sources with a password can be neither saved nor read.
	Sealer cipher.AEAD

	// Token uses being noted in the background (TokenBySecretHash);
	// Close waits for them.
	notes  sync.WaitGroup
	noting sync.Map // token ID -> true while its note is being written

	bulk bulkConn // the connection bulk writes share (inBulkTx)

	growth sync.Mutex
	grown  int64 // users created since the last Analyze
	base   int64 // users created before it, as counted by this DB

	// What index builds settled (Deferred.Dedupe), whichever call built
	// them, kept until Settled takes them for the log.
	settledMu sync.Mutex
	settled   []string

	// The database refused this role new IDs (Dialect.NewIDs: on
	// PostgreSQL, USAGE on the users' ID sequence, which an INSERT
	// through the column's default does not need): Apply inserts its
	// new users from then on, and copies only their cards.
	noNewIDs atomic.Bool
}

// New wraps an open database of dialect d; name says where it is, for
// messages. Call Migrate before anything else.
func New(sqldb *sql.DB, d Dialect, name string) *DB {
	return &DB{db: &sqlDB{DB: sqldb, d: &d}, d: d, name: name}
}

// String says which database this is: its kind and where it is.
func (db *DB) String() string { return db.d.Name + " " + db.name }

// Close closes the database. Calls that are still running fail.
func (db *DB) Close() error {
	db.notes.Wait()
	db.bulk.close()
	db.db.closeHot()
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", db, err)
	}
	return nil
}

// now returns the clock's time in UTC, to the microsecond: the finest
// both SQLite (text) and PostgreSQL (timestamptz) keep alike.
func (db *DB) now() time.Time {
	t := time.Now()
	if db.Now != nil {
		t = db.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// clock returns the time leases are measured by: the database's clock
// (read in t) where the dialect has one and no test clock is set, else
// now.
func (db *DB) clock(ctx context.Context, t interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (time.Time, error) {
	if db.Now != nil || db.d.ClockQuery == "" {
		return db.now(), nil
	}
	var at time.Time
	if err := t.QueryRowContext(ctx, db.d.ClockQuery).Scan(timeCol{&at}); err != nil {
		return time.Time{}, fmt.Errorf("store: read the database's clock: %w", err)
	}
	return at.UTC().Truncate(time.Microsecond), nil
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
// Under a fence (WithFence), the transaction first checks that the lease
// still holds, and writes nothing when it does not.
func (db *DB) inTx(ctx context.Context, what string, fn func(*tx) error) error {
	return db.runTx(ctx, what, db.db.BeginTx, fn)
}

// inConnTx is inTx on a connection taken from the pool for the
// transaction alone, so that fn may reach the driver's connection under
// it (tx.copyIn).
func (db *DB) inConnTx(ctx context.Context, what string, fn func(*tx) error) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", what, err)
	}
	defer conn.Close()
	return db.runTx(ctx, what, db.connBegin(conn), fn)
}

// runTx runs fn in the transaction begin starts: under the context's
// fence, if any, committed when fn returns nil, rolled back otherwise.
func (db *DB) runTx(ctx context.Context, what string, begin func(context.Context, *sql.TxOptions) (*tx, error), fn func(*tx) error) (err error) {
	// A transaction its context broke off may fail with what the driver
	// saw instead: pgx's "driver: bad connection" from a statement the
	// cancel cut, or a closed socket from a copy (Conn.Raw, unlike a
	// statement, does not say why). The context's error says why, and a
	// sync cancelled, out of time or out of its lease is recorded so.
	// The store's own answers (a lost lease, a card taken) stay.
	defer func() {
		var own *roster.Error
		if err != nil && ctx.Err() != nil && !errors.As(err, &own) {
			err = fmt.Errorf("store: %s: %w", what, ctx.Err())
		}
	}()
	t, err := begin(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", what, err)
	}
	defer t.Rollback()
	if f, ok := ctx.Value(fenceKey{}).(fence); ok {
		if err := db.checkFence(ctx, t, f); err != nil {
			return err
		}
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", what, err)
	}
	return nil
}

// sqlDB and tx are *sql.DB and *sql.Tx that take queries written with
// "?" placeholders and rewrite them for the dialect, so that every query
// in this package is written once.
type sqlDB struct {
	*sql.DB
	d        *Dialect
	hotStmts hotStmts
}

type tx struct {
	*sql.Tx
	d    *Dialect
	conn *sql.Conn // the connection it runs on, when begun on one (connBegin)
}

// ErrCopyRefused is wrapped by the error of a Dialect.CopyIn that a row
// broke a rule of the table: nothing it wrote stays.
var ErrCopyRefused = errors.New("the database refused a row of the copy")

// copyIn writes n rows into table through Dialect.CopyIn, on t's
// connection, which must be its own (connBegin).
func (t *tx) copyIn(ctx context.Context, table string, columns []string, n int, row func(int) []any) error {
	if t.conn == nil || t.d.CopyIn == nil {
		return fmt.Errorf("copy into %s: the transaction cannot copy", table)
	}
	var wrote int64
	err := t.conn.Raw(func(dc any) (err error) {
		wrote, err = t.d.CopyIn(ctx, dc, table, columns, n, row)
		return err
	})
	if err == nil && wrote != int64(n) {
		err = fmt.Errorf("copy into %s: %d rows written of %d", table, wrote, n)
	}
	return err // a copy its context broke off: runTx says so
}

func (c *sqlDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.DB.ExecContext(ctx, c.d.rebind(q), args...)
}

func (c *sqlDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.DB.QueryContext(ctx, c.d.rebind(q), args...)
}

func (c *sqlDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.DB.QueryRowContext(ctx, c.d.rebind(q), args...)
}

func (c *sqlDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	t, err := c.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, d: c.d}, nil
}

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// PrepareContext prepares a statement that the transaction runs in a
// loop, once a row (or a user's cards, a group's members): its
// ExecContext runs each under rowContext. Every statement this package
// prepares in a transaction is such a loop's.
func (t *tx) PrepareContext(ctx context.Context, q string) (*loopStmt, error) {
	s, err := t.Tx.PrepareContext(ctx, t.d.rebind(q))
	if err != nil {
		return nil, err
	}
	return &loopStmt{Stmt: s, d: t.d}, nil
}

// loopStmt is a statement prepared in a transaction (tx.PrepareContext).
type loopStmt struct {
	*sql.Stmt
	d *Dialect
}

// ExecContext runs the statement for one turn of its loop: under
// rowContext, with rowErr's error.
func (s *loopStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	rctx, err := s.d.rowContext(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.Stmt.ExecContext(rctx, args...)
	return res, rowErr(ctx, err)
}

// rebind numbers the "?" placeholders of q when the dialect wants $n.
// A "?" inside a quoted literal is left alone.
func (d *Dialect) rebind(q string) string {
	if !d.Numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// querier is what *sqlDB and *tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// timeFormat is RFC 3339 with a fixed nine-digit fraction, so times
// stored as text (SQLite) in the same zone (always UTC) sort as text.
// PostgreSQL reads the same text into timestamptz.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// timeValue stores t as UTC text to the microsecond, and the zero time
// as NULL.
func timeValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond).Format(timeFormat)
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

// timeCol scans a column written by timeValue, whether the database kept
// it as text or as a timestamp; NULL gives the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case time.Time:
		*c.t = v.UTC()
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("store: time column holds %T", src)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("store: time column: %w", err)
	}
	*c.t = t
	return nil
}
