package reconcile_test

import (
	"testing"

	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestMemStoreKeepsTheStoreContracts holds the in-memory store of the
// engine's tests to the suite the SQL stores pass, so that what the
// engine's tests show holds on the real store too. Source 1 is the
// engine tests' source.
func TestMemStoreKeepsTheStoreContracts(t *testing.T) {
	storetest.RunEngineStore(t, func(t *testing.T) storetest.EngineStore {
		store, addManualCard := reconcile.NewMemStore()
		return storetest.EngineStore{Store: store, Source: 1, Other: 2, AddManualCard: addManualCard}
	})
}
