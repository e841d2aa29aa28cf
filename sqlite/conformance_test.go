package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestConformance runs the suite every store passes, on a file.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		path := filepath.Join(t.TempDir(), "roster.db")
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db, raw(t, path)
	})
}
