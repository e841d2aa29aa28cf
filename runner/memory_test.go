package runner

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// limit reads the soft memory limit without changing it.
func limit() int64 { return debug.SetMemoryLimit(-1) }

func TestMemoryBudgetFollowsTheEntriesAndTheLiveHeap(t *testing.T) {
	before := limit()
	b := &MemoryBudget{Base: 1 << 30, PerEntry: 100}
	restore := b.Start()
	if got := limit(); got != 1<<30 {
		t.Fatalf("the limit after Start is %d, want the base", got)
	}
	b.seen(1000)
	if got := limit(); got != 1<<30+100_000 {
		t.Fatalf("the limit after 1,000 entries is %d, want the base and 100 bytes an entry", got)
	}
	b.seen(10) // fewer: never lower
	if got := limit(); got != 1<<30+100_000 {
		t.Fatalf("the limit went down to %d", got)
	}
	restore()
	if got := limit(); got != before {
		t.Fatalf("the limit after restore is %d, want %d", got, before)
	}

	// A heap that outgrew the estimate gets a quarter more.
	small := &MemoryBudget{Base: 1 << 20, PerEntry: 1}
	restore = small.Start()
	defer restore()
	held := make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	small.seen(1)
	if got := limit(); got < 64<<20*5/4 {
		t.Fatalf("with 64 MiB live the limit is %d, want at least 80 MiB", got)
	}
	runtime.KeepAlive(held)
}

// A store's page cache outside the Go heap comes off the heap's base, and
// nothing else changes.
func TestTheStoresPageCacheComesOffTheHeap(t *testing.T) {
	none, cached := DefaultMemoryBudget(0), DefaultMemoryBudget(6<<20)
	if cached.Base != none.Base-6<<20 || cached.PerEntry != none.PerEntry {
		t.Errorf("with a 6 MiB cache: base %d, %d an entry; without: %d, %d", cached.Base, cached.PerEntry, none.Base, none.PerEntry)
	}
}
