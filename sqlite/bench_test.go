package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// BenchmarkApplyCreate creates users in batches of 1,000, each with two
// directory cards and a few extra attributes, into a growing file: one
// iteration is one batch. -benchtime=100x stores 100,000 users.
func BenchmarkApplyCreate(b *testing.B) {
	ctx := context.Background()
	db, _, source := open(b)
	const batch = 1000
	n := 0
	for b.Loop() {
		b.StopTimer()
		changes := make([]roster.Change, batch)
		for i := range changes {
			u := storetest.NewUser(fmt.Sprintf("user%07d", n), fmt.Sprintf("A%07d", n), fmt.Sprintf("B%07d", n))
			u.Department, u.CostCenter = "Finance", "CC-7"
			u.Extra = map[string][]string{"title": {"Clerk"}}
			changes[i] = roster.Change{Kind: roster.Create, Login: u.Login, User: u}
			n++
		}
		b.StartTimer()
		if _, err := db.Apply(ctx, source, changes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "users/s")
	if _, total, err := db.FindUsers(ctx, sqlstore.UserFilter{Limit: 1}); err != nil || total != n {
		b.Fatalf("%d users stored, %v; want %d", total, err, n)
	}
}

// BenchmarkBulkPrintCodes gives 10,000 users of a fresh file a print code
// each, batched as roster does and one user a transaction as it did
// (storetest.BenchBulkPrintCodes).
func BenchmarkBulkPrintCodes(b *testing.B) {
	storetest.BenchBulkPrintCodes(b, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, path, _ := open(t)
		return db, raw(t, path)
	})
}
