package runner

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// MemoryBudget sets a sync process's soft memory limit from what its run
// holds, as the run grows: a base for the process, its connection and
// its batches in flight, plus so much for each entry the run has seen
// (its sets of anchors, logins and cards), and never less than half as
// much again as the live heap the collector last measured. The collector
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

// DefaultMemoryBudget is measured on 100,000 OpenLDAP users (bench/sync):
// the run's live heap after reading every entry is about 19 MB, and below
// a limit of 40 MiB the collector's work slowed a first sync by a third.
// At 100,000 entries the budget is 44 MiB.
func DefaultMemoryBudget() *MemoryBudget {
	return &MemoryBudget{Base: 32 << 20, PerEntry: 128}
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

// seen raises the limit to the budget of n entries, or to half as much
// again as the live heap; it never lowers it.
func (b *MemoryBudget) seen(n int) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	b.mu.Lock()
	defer b.mu.Unlock()
	want := b.Base + int64(n)*b.PerEntry
	if live[0].Value.Kind() == metrics.KindUint64 {
		want = max(want, int64(live[0].Value.Uint64())*3/2)
	}
	if want > b.limit {
		b.limit = want
		debug.SetMemoryLimit(want)
	}
}
