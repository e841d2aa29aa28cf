package postgres_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// openLab opens a store in a new database of the lab's PostgreSQL,
// dropped when the test ends.
func openLab(t testing.TB) (*sqlstore.DB, *sql.DB, string) {
	t.Helper()
	return openLabWith(t, postgres.Open)
}

// openLabWith is openLab, the store opened by open.
func openLabWith(t testing.TB, open func(context.Context, string) (*sqlstore.DB, error)) (*sqlstore.DB, *sql.DB, string) {
	t.Helper()
	dsn := labenv.Require(t).PostgresDatabase(t)
	db, err := open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := postgres.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw, dsn
}

// TestConformance runs the suite every store passes, on a real server.
func TestConformance(t *testing.T) {
	labenv.Require(t)
	storetest.Run(t, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, raw, _ := openLab(t)
		return db, raw
	})
}

// TestConformanceCopyingEveryBatch runs the suite with Apply copying
// every batch, however small (sqlstore's copyCreates and copyCards), and
// so the path a first sync's writes take, and its fallback when the
// database refuses a copied row; TestConformance's batches are below
// Dialect.CopyMin, and are inserted.
func TestConformanceCopyingEveryBatch(t *testing.T) {
	labenv.Require(t)
	storetest.Run(t, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, raw, _ := openLabWith(t, postgres.OpenCopyingEveryBatch)
		return db, raw
	})
}

// openSQLite opens a store in a new SQLite file.
func openSQLite(t testing.TB) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, nil
}

// TestCopyBetweenStores moves a user base from SQLite to PostgreSQL (the
// way roster migrate -from does) and back.
func TestCopyBetweenStores(t *testing.T) {
	labenv.Require(t)
	pg := func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, raw, _ := openLab(t)
		return db, raw
	}
	t.Run("sqlite to postgres", func(t *testing.T) { storetest.RunCopy(t, openSQLite, pg) })
	t.Run("postgres to sqlite", func(t *testing.T) { storetest.RunCopy(t, pg, openSQLite) })
}
