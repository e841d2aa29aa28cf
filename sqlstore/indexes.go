package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// DeferIndexes readies the user base for a sync: it drops the dialect's
// deferrable indexes and foreign keys (Dialect.Deferrable) when the user
// base holds no user at all, and returns their names: the caller builds
// them again (BuildIndexes) once the sync has written its users, whatever
// its outcome. It drops none, and returns none, otherwise.
//   - A sync writes into an index at random when anchors, logins or card
//     numbers come in no order; a build sorts the written rows once.
//   - PostgreSQL checks a foreign key row by row, with a query and a lock
//     on the parent row each, as rows are written (4.4 of a first sync's
//     11.9 s at 100,000 users), and all rows at once, with one join, when
//     the key is added (0.07 s).
//
// When the user base has users it builds any that is missing (one a
// killed sync left away). It reads before it writes: a sync that finds
// every one in place takes no write lock here. A lookup that needs a
// missing index reads the table instead: slower, never wrong. While a
// foreign key is away, Apply deletes a user's cards itself; a user
// deleted by other means (by hand) leaves them, and the key's Tidy
// deletes them when it is built. The two unique rules bind nobody else
// while away:
//   - one anchor a user of a source: only the sync that holds the
//     source's lease writes its users, and it drops a second sight of an
//     anchor itself (SettlesAnchors parts any twins all the same);
//   - one holder a card number: the sync drops a number a second entry
//     lists. A card added by hand checks its number by reading the table
//     (two at once take turns: SQLite's writes do, PostgreSQL's take
//     Dialect.CardLock). The sync does not see theirs, nor a first sync
//     of another source begun at the same instant: the build settles a
//     number two of them wrote (SettlesCardNumbers).
//
// Another process that starts a sync meanwhile builds them at its start
// (one a transaction, its locks taken in the order Apply takes them):
// the writes of the first sync then wait for each build (on SQLite up to
// the connection's busy timeout). On PostgreSQL the drop waits at most
// 2 s for the tables' locks (Dialect.DeferLocks); past that, the sync
// keeps them.
func (db *DB) DeferIndexes(ctx context.Context) (dropped []string, err error) {
	if len(db.d.Deferrable) == 0 {
		return nil, nil
	}
	var empty bool
	if err := db.db.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM users)`).Scan(&empty); err != nil {
		return nil, fmt.Errorf("store: defer indexes: %w", err)
	}
	if !empty {
		return nil, db.BuildIndexes(ctx)
	}
	err = db.inTx(ctx, "defer indexes", func(t *tx) error {
		if err := execAll(ctx, t, append([]string{db.d.LockMigrations}, db.d.DeferLocks...)...); err != nil {
			return err
		}
		// Again under the lock (SQLite's write lock; PostgreSQL's locks
		// on the tables, which wait for any write in progress): a user
		// written since the read above keeps every index.
		if err := t.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM users)`).Scan(&empty); err != nil || !empty {
			return err
		}
		for _, d := range db.d.Deferrable {
			if _, err := t.ExecContext(ctx, d.Drop); err != nil {
				return err
			}
			dropped = append(dropped, d.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: defer indexes: %w", err)
	}
	if len(dropped) == 0 {
		return nil, db.BuildIndexes(ctx)
	}
	return dropped, nil
}

// DeferredIndexes returns the names of the deferrable indexes and
// foreign keys the user base lacks now, in Dialect.Deferrable's order,
// for tests and messages. It reads the schema's names once.
func (db *DB) DeferredIndexes(ctx context.Context) ([]string, error) {
	missing, err := db.missing(ctx)
	var names []string
	for _, d := range missing {
		names = append(names, d.Name)
	}
	return names, err
}

// missing returns the deferrable indexes and keys the user base lacks
// now, in Dialect.Deferrable's order.
func (db *DB) missing(ctx context.Context) ([]Deferred, error) {
	if len(db.d.Deferrable) == 0 {
		return nil, nil
	}
	present, err := db.schemaNames(ctx, db.db)
	if err != nil {
		return nil, fmt.Errorf("store: deferred indexes: %w", err)
	}
	var missing []Deferred
	for _, d := range db.d.Deferrable {
		if !present[d.Name] {
			missing = append(missing, d)
		}
	}
	return missing, nil
}

// schemaNames returns the names of the schema's indexes and constraints
// (Dialect.SchemaNames).
func (db *DB) schemaNames(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, db.d.SchemaNames)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		present[name] = true
	}
	return present, closeRows(rows)
}

// execAll runs the statements in t, in order, skipping empty ones.
func execAll(ctx context.Context, t *tx, stmts ...string) error {
	for _, stmt := range stmts {
		if stmt == "" {
			continue
		}
		if _, err := t.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// repairIndexes builds the deferrable indexes and keys a killed sync left
// away, when the user base is opened and no sync holds a lease: one that
// does builds them when it ends. Best effort: a build that fails is left
// to the next open or sync, and the opening goes on.
func (db *DB) repairIndexes(ctx context.Context) {
	missing, err := db.missing(ctx)
	if err != nil || len(missing) == 0 {
		return
	}
	now, err := db.clock(ctx, db.db)
	if err != nil {
		return
	}
	var syncing bool
	if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sync_leases WHERE expires_at > ?)`,
		timeValue(now)).Scan(&syncing); err != nil || syncing {
		return
	}
	db.build(ctx, missing)
}

// BuildIndexes makes the deferrable indexes and foreign keys that are
// missing, one a transaction, so that other writers wait for one build
// at a time. It reads which are missing first: with every one in place
// it costs one read of the schema, and takes no write lock. One that
// fails leaves the others to be built: the error names each that failed.
// What a unique index's build settled waits for Settled.
func (db *DB) BuildIndexes(ctx context.Context) error {
	missing, err := db.missing(ctx)
	if err != nil {
		return err
	}
	return db.build(ctx, missing)
}

// Settled returns, for the log, and forgets what the index builds since
// the last call settled as a unique index would have (Deferred.Dedupe):
// rows that writers beside a first sync wrote twice while it was away.
// Every build keeps its notes here, whichever call made it: a sync's, a
// killed sync's successor's, the opening of the user base's.
func (db *DB) Settled() []string {
	db.settledMu.Lock()
	defer db.settledMu.Unlock()
	out := db.settled
	db.settled = nil
	return out
}

// buildIndexesOnly is BuildIndexes for the indexes alone, for a bulk job
// that reads them: it leaves the keys to the sync that deferred them.
func (db *DB) buildIndexesOnly(ctx context.Context) error {
	missing, err := db.missing(ctx)
	if err != nil {
		return err
	}
	return db.build(ctx, slices.DeleteFunc(missing, func(d Deferred) bool { return d.Key }))
}

// build makes these deferrable indexes and keys (missing's), each in a
// transaction of its own, and goes on past one that fails. Each is
// looked for again under the lock (Dialect.LockMigrations, then its own
// Lock): another node may have built it since.
func (db *DB) build(ctx context.Context, missing []Deferred) error {
	var errs []error
	for _, d := range missing {
		var note string
		err := db.inTx(ctx, "build indexes", func(t *tx) error {
			if err := execAll(ctx, t, db.d.LockMigrations, d.Lock); err != nil {
				return err
			}
			present, err := db.schemaNames(ctx, t)
			if err != nil || present[d.Name] {
				return err
			}
			if err := execAll(ctx, t, d.Tidy); err != nil {
				return err
			}
			if len(d.Dedupe) == 0 {
				return execAll(ctx, t, d.Make)
			}
			// A savepoint, so that a failed Make leaves the transaction
			// usable on PostgreSQL too.
			if err := execAll(ctx, t, "SAVEPOINT make", d.Make); err == nil {
				return nil
			}
			if note, err = db.dedupe(ctx, t, d); err != nil {
				return err
			}
			return execAll(ctx, t, d.Make)
		})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("store: build %s: %w", d.Name, err))
		case note != "":
			db.settledMu.Lock()
			db.settled = append(db.settled, note)
			db.settledMu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// dedupe runs d's Dedupe in t after its Make failed (see build), and
// returns its note with the number of rows the last statement changed,
// "" for none.
func (db *DB) dedupe(ctx context.Context, t *tx, d Deferred) (string, error) {
	if _, err := t.ExecContext(ctx, "ROLLBACK TO SAVEPOINT make"); err != nil {
		return "", err
	}
	var n int64
	for _, stmt := range d.Dedupe {
		res, err := t.ExecContext(ctx, stmt)
		if err != nil {
			return "", err
		}
		if n, err = res.RowsAffected(); err != nil {
			return "", err
		}
	}
	switch {
	case n == 0:
		return "", nil
	case d.Settled == "":
		return fmt.Sprintf("%s: %d rows written twice while it was away were settled", d.Name, n), nil
	}
	return fmt.Sprintf(d.Settled, n), nil
}
