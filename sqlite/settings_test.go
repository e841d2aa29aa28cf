package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestSettingsUpgrade: a source stored under Go's field names reads the
// same after schema step 012 rewrote it in the written format.
func TestSettingsUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	r := raw(t, path)
	db := sqlstore.New(r, sqlite.Dialect, path)
	storetest.RunSettingsUpgrade(t, db, raw(t, path), sqlite.Migrations())
}
