package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
	"github.com/rosterhq/roster/userbase"
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

// BenchmarkApplyFirstSync is storetest.BenchApplyFirstSync on SQLite, with
// a sync's page cache.
func BenchmarkApplyFirstSync(b *testing.B) {
	storetest.BenchApplyFirstSync(b, func(t testing.TB) (*sqlstore.DB, *sql.DB) {
		db, path, _ := openCache(t, userbase.SyncCacheKiB)
		return db, raw(t, path)
	})
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

// BenchmarkUserDigests reads the digests of 100,000 stored users, 1,000
// anchors a call in the order they were written, as an unchanged sync
// of bench/sync does, through a sync's 6 MiB cache. One iteration reads
// them all.
func BenchmarkUserDigests(b *testing.B) {
	ctx := context.Background()
	const users, batch, page = 100_000, 5000, 1000
	db, _, source := openCache(b, userbase.SyncCacheKiB)
	rnd := rand.New(rand.NewPCG(1, 2))
	anchors := make([]string, 0, users)
	for start := 0; start < users; start += batch {
		changes := make([]roster.Change, batch)
		for i := range changes {
			a := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rnd.Uint32(), rnd.IntN(1<<16), rnd.IntN(1<<16), rnd.IntN(1<<16), rnd.Int64N(1<<48))
			login := fmt.Sprintf("user%07d", start+i)
			changes[i] = roster.Change{Kind: roster.Create, Login: login, Fingerprint: rnd.Uint64() | 1,
				User: &roster.User{Anchor: a, Login: login, DN: "uid=" + login + ",ou=people,dc=example,dc=test"}}
			anchors = append(anchors, a)
		}
		if _, err := db.Apply(ctx, source, changes); err != nil {
			b.Fatal(err)
		}
	}
	found := 0
	for b.Loop() {
		found = 0
		for start := 0; start < users; start += page {
			got, err := db.UserDigests(ctx, source, anchors[start:start+page])
			if err != nil {
				b.Fatal(err)
			}
			found += len(got)
		}
	}
	if found != users {
		b.Fatalf("found %d users, want %d", found, users)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100k-users")
}

// BenchmarkLoginOwners looks up 100 pages of 1,000 logins that no user
// holds among 100,000 stored users, as a first sync does for each page of
// new entries, through a sync's cache. One iteration reads them all.
func BenchmarkLoginOwners(b *testing.B) {
	ctx := context.Background()
	const users, batch, page, pages = 100_000, 5000, 1000, 100
	db, _, source := openCache(b, userbase.SyncCacheKiB)
	for start := 0; start < users; start += batch {
		changes := make([]roster.Change, batch)
		for i := range changes {
			login := fmt.Sprintf("u%x", (start+i)*2654435761%1000003) // stored out of order, as a directory's are
			changes[i] = roster.Change{Kind: roster.Create, Login: login, User: &roster.User{Anchor: "a-" + login, Login: login}}
		}
		if _, err := db.Apply(ctx, source, changes); err != nil {
			b.Fatal(err)
		}
	}
	logins := make([][]string, pages)
	for p := range logins {
		logins[p] = make([]string, page)
		for i := range logins[p] {
			logins[p][i] = fmt.Sprintf("n%x", (p*page+i)*2654435761%1000003)
		}
	}
	for b.Loop() {
		for _, l := range logins {
			if got, err := db.LoginOwners(ctx, source, l); err != nil || len(got) != 0 {
				b.Fatalf("LoginOwners of logins no one holds: %v, %v", got, err)
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100k-logins")
}
