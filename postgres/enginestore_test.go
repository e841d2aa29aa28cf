package postgres_test

import (
	"testing"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestEngineStore holds the PostgreSQL store to the contracts of the
// engine's store, the same suite SQLite and the engine's in-memory fake
// pass, each case in a new database of the lab's server.
func TestEngineStore(t *testing.T) {
	labenv.Require(t)
	storetest.RunEngineStore(t, func(t *testing.T) storetest.EngineStore {
		db, _, _ := openLab(t)
		return storetest.SQLEngineStore(t, db)
	})
}
