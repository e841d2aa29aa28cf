package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/rosterhq/roster"
)

// Migrate brings the schema up to date: it applies, in name order, the
// *.sql steps of steps that the migrations table does not list yet, each
// in its own transaction together with its row in that table. A step,
// once released, is never edited: the schema changes with a new file.
// SQLite and PostgreSQL have a step of the same name for each change, so
// both stores list the same steps. A step may have a part written in Go
// (goSteps), which runs after its SQL, in its transaction.
func (db *DB) Migrate(ctx context.Context, steps fs.FS) error {
	// Under the lock too: two nodes creating the table at once would
	// collide on PostgreSQL's catalog.
	err := db.inTx(ctx, "migrations table", func(t *tx) error {
		if db.d.LockMigrations != "" {
			if _, err := t.ExecContext(ctx, db.d.LockMigrations); err != nil {
				return err
			}
		}
		_, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create the migrations table in %s: %w", db, err)
	}
	names, err := fs.Glob(steps, "*.sql")
	if err != nil {
		return fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	if err := db.refuseNewer(ctx, names); err != nil {
		return err
	}
	for _, name := range names {
		if err := db.migrateFile(ctx, steps, name); err != nil {
			return err
		}
	}
	db.repairIndexes(ctx)
	return nil
}

// refuseNewer refuses a user base that a newer roster brought past the
// steps this one knows: this one would not know what those steps keep,
// and could lose it. Nothing is changed.
func (db *DB) refuseNewer(ctx context.Context, known []string) error {
	applied, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	knows := map[string]bool{}
	for _, name := range known {
		knows[path.Base(name)] = true
	}
	for _, step := range applied {
		if !knows[step] {
			last := "none"
			if len(known) > 0 {
				last = path.Base(known[len(known)-1])
			}
			return rosterError("Migrate", roster.EINVALID,
				"the user base %s was brought to the schema step %s by a newer roster; this roster knows the steps up to %s and would not know what the newer ones keep. Run the newer roster again, or restore the backup taken before the upgrade (roster restore) into a new data folder", db, step, last)
		}
	}
	return nil
}

// keysOff is the first line of a step that runs with the database's
// foreign keys off (Dialect.KeysOff): one that makes a parent table
// again, which dropping the old one would otherwise empty its children
// of (ON DELETE CASCADE). Such a step guards itself as well, should the
// line go unread.
const keysOff = "-- roster: foreign keys off"

// asksKeysOff says whether step's first line is keysOff, whatever ends
// it (LF, CR LF) and with or without a byte-order mark before it.
func asksKeysOff(step []byte) bool {
	first, _, _ := strings.Cut(strings.TrimPrefix(string(step), "\ufeff"), "\n")
	return strings.TrimSpace(first) == keysOff
}

func (db *DB) migrateFile(ctx context.Context, steps fs.FS, name string) error {
	step := path.Base(name)
	buf, err := fs.ReadFile(steps, name)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", step, err)
	}
	offStep := asksKeysOff(buf) && db.d.KeysOff != ""
	inTx := db.inTx
	if offStep {
		inTx = db.inTxKeysOff
	}
	return inTx(ctx, "migration "+step, func(t *tx) error {
		if db.d.LockMigrations != "" {
			if _, err := t.ExecContext(ctx, db.d.LockMigrations); err != nil {
				return fmt.Errorf("store: migration %s: lock: %w", step, err)
			}
		}
		var n int
		if err := t.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, step).Scan(&n); err != nil {
			return fmt.Errorf("store: migration %s: %w", step, err)
		}
		if n > 0 {
			return nil
		}
		var broken map[string]int
		if offStep {
			var err error
			if broken, err = db.brokenKeys(ctx, t); err != nil {
				return fmt.Errorf("store: migration %s of %s: check the foreign keys: %w", step, db, err)
			}
		}
		if _, err := t.Tx.ExecContext(ctx, string(buf)); err != nil { // as written: no placeholders
			return fmt.Errorf("store: migration %s of %s: %w", step, db, err)
		}
		if fn := goSteps[step]; fn != nil {
			if err := fn(ctx, t); err != nil {
				return fmt.Errorf("store: migration %s of %s: %w", step, db, err)
			}
		}
		if offStep {
			if err := db.checkKeys(ctx, t, broken); err != nil {
				return fmt.Errorf("store: migration %s of %s: %w", step, db, err)
			}
		}
		if _, err := t.ExecContext(ctx, `INSERT INTO migrations (name) VALUES (?)`, step); err != nil {
			return fmt.Errorf("store: migration %s: record it: %w", step, err)
		}
		return nil
	})
}

// goSteps are the parts of schema steps that SQL cannot do, such as keys
// that roster computes: each runs after its step's SQL, in the same
// transaction, on both stores.
var goSteps = map[string]func(context.Context, *tx) error{
	"009_dn_keys.sql":        func(ctx context.Context, t *tx) error { _, err := rekeyDNs(ctx, t); return err },
	"012_settings_names.sql": renameSettings,
}

// Migrations lists the schema steps this database has applied, in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list the applied migrations of %s: %w", db, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Steps returns the folder dir of fsys, where a store embeds its schema
// steps, as the file system Migrate reads.
func Steps(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the folder is embedded: it is there
	}
	return sub
}

// inTxKeysOff is inTx on a connection of its own with the foreign keys
// off (Dialect.KeysOff), which SQLite can switch only outside a
// transaction. They are turned on again after (KeysOn). A connection
// whose step failed, or that refuses, is closed, never given back to the
// pool with its keys off: SQLite ignores the switch inside a transaction
// a failed commit may have left open. (An in-memory database, whose one
// connection is the database, is then gone: its opening fails anyway.)
func (db *DB) inTxKeysOff(ctx context.Context, what string, fn func(*tx) error) (err error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer func() {
		// Not under ctx: a cancelled step's connection needs its keys back
		// all the same.
		if _, onErr := conn.ExecContext(context.Background(), db.d.KeysOn); onErr != nil || err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, db.d.KeysOff); err != nil {
		return fmt.Errorf("store: %s: foreign keys off: %w", what, err)
	}
	return db.runTx(ctx, what, db.connBegin(conn), fn)
}

// brokenKeys returns the rows that name a parent that is not there
// (Dialect.KeyCheck), each as the message names it, with how many rows
// it stands for: one for a row with an ID, all of a table's rows
// without one (a table WITHOUT ROWID) that name the same parent.
func (db *DB) brokenKeys(ctx context.Context, t *tx) (map[string]int, error) {
	broken := map[string]int{}
	if db.d.KeyCheck == "" {
		return broken, nil
	}
	rows, err := t.QueryContext(ctx, db.d.KeyCheck)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		// SQLite's: the table, the row's ID (none for a table without
		// one), the parent table, the key's number in the table.
		var table, parent string
		var row sql.NullInt64
		var key int
		if err := rows.Scan(&table, &row, &parent, &key); err != nil {
			return nil, err
		}
		if row.Valid {
			broken[fmt.Sprintf("%s row %d names a missing %s", table, row.Int64, parent)]++
		} else {
			broken[fmt.Sprintf("rows of %s name a missing %s", table, parent)]++
		}
	}
	return broken, rows.Err()
}

// checkKeys fails when a step run with the keys off left rows that name
// a parent that is not there, beyond those before it (before): it
// checks before it commits. Rows broken before, which no step made, do
// not keep the user base from opening.
func (db *DB) checkKeys(ctx context.Context, t *tx, before map[string]int) error {
	after, err := db.brokenKeys(ctx, t)
	if err != nil {
		return err
	}
	var bad []string
	for b, n := range after {
		if n > before[b] {
			if n > 1 || before[b] > 0 {
				b = fmt.Sprintf("%s (%d, %d before)", b, n, before[b])
			}
			bad = append(bad, b)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("foreign keys broken by the step (%s); the step was rolled back and nothing changed. This is a fault of the step, not of the data: keep running the previous roster on this user base, and report this message", strings.Join(bad[:min(len(bad), 5)], "; "))
	}
	return nil
}
