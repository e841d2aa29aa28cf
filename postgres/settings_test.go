package postgres_test

import (
	"testing"

	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestSettingsUpgrade: a source stored under Go's field names reads the
// same after schema step 012 rewrote it in the written format.
func TestSettingsUpgrade(t *testing.T) {
	db, r := schemaless(t)
	storetest.RunSettingsUpgrade(t, db, r, postgres.Migrations())
}
