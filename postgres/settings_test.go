package postgres_test

import (
	"testing"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// TestSettingsUpgrade: a source stored under Go's field names reads the
// same after schema step 012 rewrote it in the written format.
func TestSettingsUpgrade(t *testing.T) {
	dsn := labenv.Require(t).PostgresDatabase(t)
	r, err := postgres.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	r2, err := postgres.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r2.Close() })
	storetest.RunSettingsUpgrade(t, sqlstore.New(r, postgres.Dialect, "upgrade test"), r2, postgres.Migrations())
}
