package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// DeferIndexes readies the user base for a sync: it drops the dialect's
// deferrable indexes (Dialect.Deferrable) when the user base holds no
// user at all, and returns build, which makes them again, to be called
// once the sync has written its users, whatever its outcome; build is
// nil when it dropped none. SQLite
// builds an index over rows already written by sorting them, where a
// sync writing into it moves through its pages at random: a first sync
// of 100,000 lab users took 3.6-3.8 s without these four indexes and
// 4.8-5.4 s with them, and building them took 0.3 s.
//
// When the user base has users it drops nothing, builds any deferrable
// index that is missing (one a sync killed before its build left
// away). A lookup that needs a
// missing index reads the table instead: slower, never wrong, for none
// of them enforces a rule. With no deferrable indexes (PostgreSQL) it
// does nothing.
//
// Another process that starts a sync meanwhile builds them at its start:
// the writes of the first sync then wait for that build, up to the
// connection's busy timeout.
func (db *DB) DeferIndexes(ctx context.Context) (build func(context.Context) error, err error) {
	if len(db.d.Deferrable) == 0 {
		return nil, nil
	}
	deferred := false
	err = db.inTx(ctx, "defer indexes", func(t *tx) error {
		var empty bool
		if err := t.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM users)`).Scan(&empty); err != nil {
			return err
		}
		if !empty {
			return createIndexes(ctx, t, db.d.Deferrable)
		}
		for _, stmt := range db.d.Deferrable {
			if _, err := t.ExecContext(ctx, `DROP INDEX IF EXISTS `+indexName(stmt)); err != nil {
				return err
			}
		}
		deferred = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: defer indexes: %w", err)
	}
	if !deferred {
		return nil, nil
	}
	return db.buildIndexes, nil
}

// DeferredIndexes returns the names of the deferrable indexes the user
// base lacks now, for tests and messages. Deferrable indexes are
// SQLite's: it reads sqlite_master.
func (db *DB) DeferredIndexes(ctx context.Context) ([]string, error) {
	var missing []string
	for _, stmt := range db.d.Deferrable {
		var n int
		if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`,
			indexName(stmt)).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: deferred indexes: %w", err)
		}
		if n == 0 {
			missing = append(missing, indexName(stmt))
		}
	}
	return missing, nil
}

// buildIndexes makes the deferrable indexes that are missing, in one
// transaction.
func (db *DB) buildIndexes(ctx context.Context) error {
	err := db.inTx(ctx, "build indexes", func(t *tx) error { return createIndexes(ctx, t, db.d.Deferrable) })
	if err != nil {
		return fmt.Errorf("store: build indexes: %w", err)
	}
	return nil
}

func createIndexes(ctx context.Context, t *tx, stmts []string) error {
	for _, stmt := range stmts {
		if _, err := t.ExecContext(ctx, strings.Replace(stmt, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)); err != nil {
			return fmt.Errorf("%s: %w", indexName(stmt), err)
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
