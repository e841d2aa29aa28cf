package sqlstore_test

import (
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore"
)

// A DB is the engine's store. The check lives in a test: the package
// itself does not import the engine (see imports_test.go in the root).
var _ reconcile.Store = (*sqlstore.DB)(nil)
