package reconcile

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestDigestSetAgreesWithAMap puts, overwrites and gets random digests,
// through many merges, and holds the set to a Go map doing the same.
func TestDigestSetAgreesWithAMap(t *testing.T) {
	for _, keysOnly := range []bool{false, true} {
		t.Run(fmt.Sprint("keys only: ", keysOnly), func(t *testing.T) { testDigestSet(t, keysOnly) })
	}
}

func testDigestSet(t *testing.T, keysOnly bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, want := newDigestSet(keysOnly), map[digest]uint32{}
	var keys []digest
	for i := range 60000 {
		var d digest
		if len(keys) > 0 && rng.IntN(4) == 0 {
			d = keys[rng.IntN(len(keys))] // an overwrite
		} else {
			d = digest{rng.Uint32(), rng.Uint32(), rng.Uint32()}
			if i%7 == 0 {
				d[0] = keys0(keys, rng) // neighbours sharing their first word
			}
			keys = append(keys, d)
		}
		v := uint32(rng.IntN(3) + 1)
		if keysOnly {
			v = 1
		}
		if i%3 == 0 { // add: the value held, else v put
			if got := s.add(d, v); got != want[d] {
				t.Fatalf("add(%v) = %d, want %d", d, got, want[d])
			}
			if _, held := want[d]; !held {
				want[d] = v
			}
			continue
		}
		s.put(d, v)
		want[d] = v
		if i%97 == 0 {
			probe := digest{rng.Uint32(), rng.Uint32(), rng.Uint32()}
			if got := s.get(probe); got != want[probe] {
				t.Fatalf("after %d puts, get(absent %v) = %d, want %d", i+1, probe, got, want[probe])
			}
		}
	}
	if s.len() != len(want) {
		t.Fatalf("len = %d, want %d", s.len(), len(want))
	}
	if len(s.keys) == 0 {
		t.Fatal("no merge happened; the test does not reach the array")
	}
	checkOrder(t, s)
	for d, v := range want {
		if got := s.get(d); got != v {
			t.Fatalf("get(%v) = %d, want %d", d, got, v)
		}
	}
}

// checkOrder fails t unless the set's array is in order and each digest
// lies in its bucket.
func checkOrder(t *testing.T, s *digestSet) {
	t.Helper()
	if !slices.IsSortedFunc(s.keys, compareDigests) {
		t.Fatal("the array is out of order")
	}
	for i, d := range s.keys {
		if b := d[0] >> s.shift; i < int(s.index[b]) || i >= int(s.index[b+1]) {
			t.Fatalf("keys[%d] = %v lies outside its bucket %d [%d, %d)", i, d, b, s.index[b], s.index[b+1])
		}
	}
}

// TestDigestSetCrowdedBucket fills one bucket past what find reads
// through, so that it searches, and merges additions into the middle of
// it.
func TestDigestSetCrowdedBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s, want := newDigestSet(false), map[digest]uint32{}
	for i := range 20000 {
		d := digest{7, rng.Uint32(), rng.Uint32()}
		if i%2 == 0 {
			d[0] = rng.Uint32()
		}
		if got := s.add(d, uint32(i+1)); got != 0 {
			t.Fatalf("add(new %v) = %d", d, got)
		}
		want[d] = uint32(i + 1)
	}
	checkOrder(t, s)
	b := uint32(7) >> s.shift
	if n := s.index[b+1] - s.index[b]; n <= 32 {
		t.Fatalf("the crowded bucket holds %d digests; the test does not reach the search", n)
	}
	for d, v := range want {
		if got := s.add(d, 99); got != v {
			t.Fatalf("add(held %v) = %d, want %d", d, got, v)
		}
	}
	if got := s.get(digest{7, 0, 0}); got != 0 {
		t.Fatalf("get(absent) = %d", got)
	}
}

func keys0(keys []digest, rng *rand.Rand) uint32 {
	if len(keys) == 0 {
		return 0
	}
	return keys[rng.IntN(len(keys))][0]
}

func TestNamesGivesBackWhatItKeeps(t *testing.T) {
	var n names
	type kept struct {
		ref uint32
		s   string
	}
	var all []kept
	for i := range 3000 { // past one block of 1 MiB, and lengths past one varint byte
		s := strconv.Itoa(i) + string(make([]byte, i%1000))
		ref := n.add(s)
		if ref == 0 || (len(all) > 0 && ref <= all[len(all)-1].ref) {
			t.Fatalf("reference %d after %v", ref, all[max(len(all)-1, 0):])
		}
		all = append(all, kept{ref, s})
	}
	for _, k := range all {
		if got := n.get(k.ref); got != k.s {
			t.Fatalf("get(%d) = %q, want %q", k.ref, got, k.s)
		}
	}
	if len(n.blocks) < 2 {
		t.Fatalf("%d blocks: the test does not cross one", len(n.blocks))
	}
	if ref := n.add(string(make([]byte, namesBlock))); ref != namesFull || n.get(ref) != "another entry" {
		t.Errorf("a string longer than a block: %d, %q", ref, n.get(ref))
	}
}

// millionDigests returns the digests of a million anchors.
func millionDigests() []digest {
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	ds := make([]digest, 1_000_000)
	for i := range ds {
		ds[i] = digestOf(&seeds, "anchor-"+strconv.Itoa(i))
	}
	return ds
}

// BenchmarkDigestSet puts a million digests and gets each again: the
// cost of a run's set a user.
func BenchmarkDigestSet(b *testing.B) {
	ds := millionDigests()
	b.ResetTimer()
	for range b.N {
		s := newDigestSet(true)
		for _, d := range ds {
			s.put(d, 1)
		}
		for _, d := range ds {
			if s.get(d) != 1 {
				b.Fatal("lost a digest")
			}
		}
	}
}

// BenchmarkDigestMap is BenchmarkDigestSet with a Go map, for comparison.
func BenchmarkDigestMap(b *testing.B) {
	ds := millionDigests()
	b.ResetTimer()
	for range b.N {
		s := map[digest]uint32{}
		for _, d := range ds {
			s[d] = 1
		}
		for _, d := range ds {
			if s[d] != 1 {
				b.Fatal("lost a digest")
			}
		}
	}
}

// BenchmarkDigestSetAdd adds 100,000 new digests with values, as a sync
// of that many users does to each of its sets, then gets each again.
func BenchmarkDigestSetAdd(b *testing.B) {
	ds := millionDigests()[:100_000]
	for b.Loop() {
		s := newDigestSet(false)
		for i, d := range ds {
			if s.add(d, uint32(i+1)) != 0 {
				b.Fatal("a new digest found")
			}
		}
		for i, d := range ds {
			if s.get(d) != uint32(i+1) {
				b.Fatal("lost a digest")
			}
		}
	}
}
