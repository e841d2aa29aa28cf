package reconcile

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
)

// digest is 96 bits of a string, the key of a run's large sets: 12 bytes
// where a string key held its header and its bytes (an anchor is 36 bytes
// of text). Two strings of a run of n entries share a digest with a chance
// of about n^2/2^97 (6e-18 for a million); the seeds are new each run.
type digest [3]uint32

// digestOf returns the digest of s under the seeds.
func digestOf(seeds *[2]maphash.Seed, s string) digest {
	a, b := maphash.String(seeds[0], s), maphash.String(seeds[1], s)
	return digest{uint32(a >> 32), uint32(a), uint32(b >> 32)}
}

func compareDigests(a, b digest) int {
	switch {
	case a == b:
		return 0
	case lessDigest(a, b):
		return -1
	}
	return 1
}

func lessDigest(a, b digest) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	if a[1] != b[1] {
		return a[1] < b[1]
	}
	return a[2] < b[2]
}

// digestSet maps digests to non-zero values: a run's sets that grow with
// the directory (the anchors seen, the logins, the cards). A Go map of
// them took 50 to 90 bytes an entry at a million entries (heap profile of
// bench/sync), which a sync of a million users could not afford. The set
// keeps its entries in a sorted array instead, 16 bytes an entry with its
// value and no pointer for the collector to follow, found through an index
// of the digests' first bits; the latest additions wait in a small map
// until it holds an eighth of the array, and are then merged in, so each
// entry is moved a bounded number of times on average.
type digestSet struct {
	keys  []digest // sorted
	vals  []uint32 // vals[i] is keys[i]'s; nil in a set without values
	index []uint32 // keys[index[b]:index[b+1]] are those whose first bits are b
	shift uint     // a digest's bucket is its d[0] >> shift

	recent map[digest]uint32
}

// minMerge is the fewest additions the set holds in its map before
// merging them into the array.
const minMerge = 1024

// newDigestSet returns a set of digests with values; with keysOnly, a
// set whose every value is 1, 4 bytes an entry smaller.
func newDigestSet(keysOnly bool) *digestSet {
	s := &digestSet{recent: map[digest]uint32{}, shift: 32, index: []uint32{0, 0}}
	if !keysOnly {
		s.vals = []uint32{}
	}
	return s
}

// len returns how many digests the set holds.
func (s *digestSet) len() int { return len(s.keys) + len(s.recent) }

// get returns d's value, or 0 when the set does not hold d.
func (s *digestSet) get(d digest) uint32 {
	if i, ok := s.find(d); ok {
		return s.at(i)
	}
	return s.recent[d] // 0 when absent: no value is 0
}

// put sets d's value to v, which must not be 0 (and is 1 in a set
// without values).
func (s *digestSet) put(d digest, v uint32) {
	s.check(v)
	if i, ok := s.find(d); ok {
		if s.vals != nil {
			s.vals[i] = v
		}
		return
	}
	s.insert(d, v)
}

// add returns d's value when the set holds d; else it puts d with v, as
// put would, and returns 0: get and put in one look.
func (s *digestSet) add(d digest, v uint32) uint32 {
	s.check(v)
	if i, ok := s.find(d); ok {
		return s.at(i)
	}
	if old, ok := s.recent[d]; ok {
		return old
	}
	s.insert(d, v)
	return 0
}

func (s *digestSet) check(v uint32) {
	if v == 0 || (s.vals == nil && v != 1) {
		panic("reconcile: a digest's value of 0, or a value in a set without")
	}
}

// at returns the value of the array's i-th digest.
func (s *digestSet) at(i int) uint32 {
	if s.vals == nil {
		return 1
	}
	return s.vals[i]
}

// insert puts d, which the array does not hold, with v among the latest
// additions, and merges them in once they are enough.
func (s *digestSet) insert(d digest, v uint32) {
	s.recent[d] = v
	if len(s.recent) >= max(minMerge, len(s.keys)/8) {
		s.merge()
	}
}

// find returns d's place in the array. A bucket holds 4 to 8 digests up
// to half a million, and 16 at a million: it is read through, which
// costs less than a binary search; a larger one is searched.
func (s *digestSet) find(d digest) (int, bool) {
	b := d[0] >> s.shift
	lo, hi := int(s.index[b]), int(s.index[b+1])
	if hi-lo > 32 {
		i, ok := slices.BinarySearchFunc(s.keys[lo:hi], d, compareDigests)
		return lo + i, ok
	}
	for i, k := range s.keys[lo:hi] {
		if k == d {
			return lo + i, true
		}
	}
	return 0, false
}

// merge moves the map's additions into a new array, and indexes it by
// as many first bits as make buckets of four to eight entries, up to 16
// bits (an index of 256 KiB): a million entries make buckets of about 15.
//
// The additions are put in order by their bucket first (a counting sort
// on those bits), then within it: the digests are uniform, so a bucket
// gets about one addition, and the whole costs a pass, where a sort by
// comparisons took most of a merge (BenchmarkDigestSetAdd). The index's
// 16 bits give a bucket n/8/65,536 additions past half a million
// entries: 19 at ten million, where the insertion is still short.
func (s *digestSet) merge() {
	n := len(s.keys) + len(s.recent)
	bucketBits := min(max(bits.Len(uint(n))-3, 0), 16)
	shift := uint(32 - bucketBits)
	index := make([]uint32, 1<<bucketBits+1)
	for d := range s.recent {
		index[(d[0]>>shift)+1]++
	}
	for b := 1; b < len(index); b++ {
		index[b] += index[b-1]
	}
	add := make([]digest, len(s.recent))
	var addVals []uint32 // none in a set without values
	if s.vals != nil {
		addVals = make([]uint32, len(s.recent))
	}
	next := slices.Clone(index[:len(index)-1])
	for d, v := range s.recent {
		b := d[0] >> shift
		i := next[b]
		next[b]++
		// Insertion within the bucket: those before are in order.
		for ; i > index[b] && lessDigest(d, add[i-1]); i-- {
			add[i] = add[i-1]
			if addVals != nil {
				addVals[i] = addVals[i-1]
			}
		}
		add[i] = d
		if addVals != nil {
			addVals[i] = v
		}
	}
	keys := make([]digest, 0, n)
	var vals []uint32
	if s.vals != nil {
		vals = make([]uint32, 0, n)
	}
	i, j := 0, 0
	for i < len(s.keys) || j < len(add) {
		if j == len(add) || (i < len(s.keys) && lessDigest(s.keys[i], add[j])) {
			keys = append(keys, s.keys[i])
			if vals != nil {
				vals = append(vals, s.vals[i])
			}
			i++
			continue
		}
		keys = append(keys, add[j])
		if vals != nil {
			vals = append(vals, addVals[j])
		}
		j++
	}
	s.keys, s.vals = keys, vals
	clear(s.recent)
	s.shift = shift
	clear(index)
	for k, d := range keys {
		index[(d[0]>>shift)+1] = uint32(k + 1)
	}
	for k := 1; k < len(index); k++ { // empty buckets end where the last one did
		index[k] = max(index[k], index[k-1])
	}
	s.index = index
}

// names keeps strings a digestSet's values point to (the logins of card
// holders a run skips, which the user base will not name), one after the
// other, each after its length: a few bytes more than the string where a
// Go string took a header and an allocation. The bytes are kept in blocks
// of namesBlock, so that growing never copies what is kept nor holds it
// twice (a million logins would take some 15 MB).
type names struct{ blocks [][]byte }

const namesBlock = 1 << 20

// namesFull is the reference add returns once the strings fill what a
// reference can point to (4 GiB, some 250 million logins): get names it
// vaguely, and a message loses a name, not the run. (The engine leaves a
// holder unnamed past 2 GiB already: see namedHolder.)
const namesFull = math.MaxUint32

// add keeps s and returns its reference, never 0.
func (n *names) add(s string) uint32 {
	need := binary.MaxVarintLen64 + len(s)
	last := len(n.blocks) - 1
	if last < 0 || len(n.blocks[last])+need > namesBlock {
		last++
		if need > namesBlock || int64(last+1)*namesBlock >= namesFull {
			return namesFull // a string longer than a block, or past 4 GiB
		}
		n.blocks = append(n.blocks, make([]byte, 0, namesBlock))
	}
	b := n.blocks[last]
	ref := uint32(last*namesBlock + len(b) + 1)
	b = binary.AppendUvarint(b, uint64(len(s)))
	n.blocks[last] = append(b, s...)
	return ref
}

// get returns the string of a reference add returned.
func (n *names) get(ref uint32) string {
	if ref == namesFull {
		return "another entry"
	}
	at := int(ref - 1)
	b := n.blocks[at/namesBlock][at%namesBlock:]
	l, k := binary.Uvarint(b)
	return string(b[k : k+int(l)])
}
