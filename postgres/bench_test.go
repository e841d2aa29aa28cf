package postgres_test

import (
	"database/sql"
	"testing"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// BenchmarkBulkPrintCodes gives 10,000 users of a new database of the
// lab's PostgreSQL a print code each, batched as roster does and one user
// a transaction as it did (storetest.BenchBulkPrintCodes).
func BenchmarkBulkPrintCodes(b *testing.B) {
	labenv.Require(b)
	storetest.BenchBulkPrintCodes(b, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, raw, _ := openLab(t)
		return db, raw
	})
}

// BenchmarkApplyFirstSync is storetest.BenchApplyFirstSync on a new
// database of the lab's PostgreSQL.
func BenchmarkApplyFirstSync(b *testing.B) {
	labenv.Require(b)
	storetest.BenchApplyFirstSync(b, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, raw, _ := openLab(t)
		return db, raw
	})
}
