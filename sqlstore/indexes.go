package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// DeferIndexes readies the user base for a sync: it drops the dialect's
// deferrable indexes (Dialect.Deferrable) when the user base holds no
// user at all, and returns their names: the caller builds them again
// (BuildIndexes) once the sync has written its users, whatever its
// outcome. It drops none, and returns none, otherwise. SQLite builds an
// index over rows already written by sorting them, where a sync writing
// into it moves through its pages at random.
//
// When the user base has users it builds any deferrable index that is
// missing (one a killed sync left away). It reads before it writes: a
// sync that finds every index in place takes no write lock here. A
// lookup that needs a missing index reads the table instead: slower,
// never wrong, for none of them enforces a rule. With no deferrable
// indexes (PostgreSQL) it does nothing.
//
// Another process that starts a sync meanwhile builds them at its start
// (one index a transaction): the writes of the first sync then wait for
// each build, up to the connection's busy timeout.
func (db *DB) DeferIndexes(ctx context.Context) (dropped []string, err error) {
	if len(db.d.Deferrable) == 0 {
		return nil, nil
	}
	missing, err := db.DeferredIndexes(ctx)
	if err != nil {
		return nil, err
	}
	var empty bool
	if err := db.db.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM users)`).Scan(&empty); err != nil {
		return nil, fmt.Errorf("store: defer indexes: %w", err)
	}
	if !empty {
		return nil, db.build(ctx, missing)
	}
	err = db.inTx(ctx, "defer indexes", func(t *tx) error {
		// Again under the write lock: a user written since the read
		// above keeps every index.
		if err := t.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM users)`).Scan(&empty); err != nil || !empty {
			return err
		}
		for _, stmt := range db.d.Deferrable {
			if _, err := t.ExecContext(ctx, `DROP INDEX IF EXISTS `+indexName(stmt)); err != nil {
				return err
			}
			dropped = append(dropped, indexName(stmt))
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

// DeferredIndexes returns the names of the deferrable indexes the user
// base lacks now, in Dialect.Deferrable's order, for tests and messages.
// Deferrable indexes are SQLite's: it reads sqlite_master, once.
func (db *DB) DeferredIndexes(ctx context.Context) ([]string, error) {
	if len(db.d.Deferrable) == 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index'`)
	if err != nil {
		return nil, fmt.Errorf("store: deferred indexes: %w", err)
	}
	present := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: deferred indexes: %w", err)
		}
		present[name] = true
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: deferred indexes: %w", err)
	}
	var missing []string
	for _, stmt := range db.d.Deferrable {
		if !present[indexName(stmt)] {
			missing = append(missing, indexName(stmt))
		}
	}
	return missing, nil
}

// repairIndexes builds the deferrable indexes a killed sync left away,
// when the user base is opened and no sync holds a lease: one that does
// builds them when it ends. Best effort: a build that fails is left to
// the next open or sync, and the opening goes on.
func (db *DB) repairIndexes(ctx context.Context) {
	missing, err := db.DeferredIndexes(ctx)
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

// BuildIndexes makes the deferrable indexes that are missing, one a
// transaction, so that other writers wait for one build at a time. It
// reads which are missing first: with every index in place it costs one
// read of the schema, and takes no write lock.
func (db *DB) BuildIndexes(ctx context.Context) error {
	missing, err := db.DeferredIndexes(ctx)
	if err != nil {
		return err
	}
	return db.build(ctx, missing)
}

// build makes the deferrable indexes of these names (DeferredIndexes').
func (db *DB) build(ctx context.Context, names []string) error {
	for _, stmt := range db.d.Deferrable {
		if !slices.Contains(names, indexName(stmt)) {
			continue
		}
		err := db.inTx(ctx, "build indexes", func(t *tx) error {
			_, err := t.ExecContext(ctx, strings.Replace(stmt, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: build the index %s: %w", indexName(stmt), err)
		}
	}
	return nil
}

// indexName returns the name a CREATE INDEX statement gives its index.
func indexName(stmt string) string {
	if f := strings.Fields(stmt); len(f) > 2 {
		return f[2]
	}
	return ""
}
