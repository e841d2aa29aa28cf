package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestEngineStore holds the SQLite store to the contracts of the engine's
// store, the same suite the engine's in-memory fake passes.
func TestEngineStore(t *testing.T) {
	storetest.RunEngineStore(t, func(t *testing.T) storetest.EngineStore {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "roster.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return storetest.SQLEngineStore(t, db)
	})
}
