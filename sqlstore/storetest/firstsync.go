package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/rosterhq/roster"
)

// BenchApplyFirstSync writes what a first sync of 100,000 directory users
// writes, and nothing else: random 36-character anchors (as objectGUID
// is), DNs and logins, one card each at random, in the engine's batches
// of 5,000, into a store o opens as a sync's is (SQLite's with its page
// cache), the indexes a first sync defers dropped and built at the end.
// It is the store's floor for bench/sync's first sync, with no directory
// read. One iteration is 100,000 users into a new store; BENCH_USERS sets
// another number.
func BenchApplyFirstSync(b *testing.B, o Opener) {
	ctx := context.Background()
	users, batch := 100_000, 5000
	if n, err := strconv.Atoi(os.Getenv("BENCH_USERS")); err == nil && n > 0 {
		users = (n + batch - 1) / batch * batch
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		b.StopTimer()
		db, _, source := open(b, o)
		if _, err := db.DeferIndexes(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for start := 0; start < users; start += batch {
			b.StopTimer()
			changes := make([]roster.Change, batch)
			for i := range changes {
				n := start + i
				var anchor [16]byte
				for j := range anchor {
					anchor[j] = byte(rnd.IntN(256))
				}
				login := fmt.Sprintf("u%x%d", anchor[:3], n)
				u := &roster.User{Anchor: fmt.Sprintf("%x-%x-%x-%x-%x", anchor[:4], anchor[4:6], anchor[6:8], anchor[8:10], anchor[10:]),
					DN: "uid=" + login + ",ou=people,dc=example,dc=test", Login: login, Name: "Some Body " + login,
					Email: login + "@example.test", Department: "Engineering", CostCenter: "CC-7",
					Cards: []roster.Card{{Number: fmt.Sprintf("%010d", n*2654435761%1e10), Kind: roster.CardPrimary}}} // unique, in no order
				changes[i] = roster.Change{Kind: roster.Create, Login: u.Login, User: u, Fingerprint: rnd.Uint64() | 1}
			}
			b.StartTimer()
			if _, err := db.Apply(ctx, source, changes); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.BuildIndexes(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*100_000/float64(users), "s/100k-users")
}
