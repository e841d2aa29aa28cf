package runner

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// MemoryBudget sets a sync process's soft memory limit from what its run
// holds, as the run grows: a base for the process, its connection and
// its batches in flight, plus so much for each entry the run has seen
// (its sets of anchors, logins and cards), and never less than a quarter
// more than the live heap the collector last measured. The run's large
// sets hold no pointers, so a collection costs little however large they
// grow, and a quarter is room enough. The collector
// then runs rarely while the heap is far below the budget (GOGC 400), and
// holds the heap near it when the heap would pass it, so that a sync's
// peak follows the directory's size, not a fixed guess, and the collector
// never runs flat out on a heap that outgrew the estimate.
//
// It is for processes that only sync (roster sync, the worker roster
// serve starts): the limit is the whole process's.
type MemoryBudget struct {
	Base     int64 // bytes
	PerEntry int64 // bytes an entry seen

	mu    sync.Mutex
	limit int64
}

// DefaultMemoryBudget returns the budget of a process whose store keeps
// pageCache bytes of pages outside the Go heap (SQLite's page cache; 0
// for PostgreSQL): the base is the heap's and the cache's together.
//
// It is measured with bench/sync. A first sync of 100,000 users ran
// faster with a heap limit of 31 MiB and a 6 MiB SQLite page cache
// (userbase.SyncCacheKiB) than with 42 MiB and SQLite's default 2 MiB, and
// in less RSS: 25 MiB of heap base, 31 at 100,000 entries. At 1,000,000 users the
// run's sets take about 45 bytes an entry (16 for the anchor and its
// mark, 12 for the login, 16 for each card; the holders' logins are not
// kept), and the base and 64 bytes an entry, 90 MB, leave the collector
// room over a live heap near 65 MB: a first sync of a million lab users
// peaked at 117-127 MB and took 44-50 s, where with the holders' logins
// kept (a live heap near 80 MB, a quarter more of it deciding) it peaked
// at 129-144 MB and took 54 s. 48 bytes an entry gave no less RSS.
func DefaultMemoryBudget(pageCache int64) *MemoryBudget {
	return &MemoryBudget{Base: 31<<20 - pageCache, PerEntry: 64}
}

// Start sets the collector's pace and the base limit, and returns what
// puts the former settings back.
func (b *MemoryBudget) Start() (restore func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limit = b.Base
	gc, mem := debug.SetGCPercent(400), debug.SetMemoryLimit(b.limit)
	return func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(mem) }
}

// seen raises the limit to the budget of n entries, or to a quarter more
// than the live heap; it never lowers it.
func (b *MemoryBudget) seen(n int) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	b.mu.Lock()
	defer b.mu.Unlock()
	want := b.Base + int64(n)*b.PerEntry
	if live[0].Value.Kind() == metrics.KindUint64 {
		want = max(want, int64(live[0].Value.Uint64())*5/4)
	}
	if want > b.limit {
		b.limit = want
		debug.SetMemoryLimit(want)
	}
}
