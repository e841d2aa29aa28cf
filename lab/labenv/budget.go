package labenv

import (
	"os"
	"strconv"
	"sync"
	"time"
)

// Budget is d scaled to this machine, for the bounds tests set on waits
// that end on a condition (a server listening, a run finishing, a page
// step): the bound stops a hang and must never be what fails a test on
// a slow or loaded machine. d is the bound on a quick, idle machine; it
// grows with the time a fixed piece of work takes here, measured once
// per test process (so a loaded machine, and the race detector, which
// slows that work as it slows the tests, get more), and by
// ROSTER_TEST_SCALE when set (a factor, e.g. 3).
func Budget(d time.Duration) time.Duration {
	return time.Duration(float64(d) * scale())
}

// referenceWork is what the work below takes on an idle 2-core machine
// of the kind CI uses, without the race detector.
const referenceWork = 10 * time.Millisecond

var scale = sync.OnceValue(func() float64 {
	f := 1.0
	if v, err := strconv.ParseFloat(os.Getenv("ROSTER_TEST_SCALE"), 64); err == nil && v > 0 {
		f = v
	}
	// The slowest of three: a budget too wide costs nothing, one too
	// narrow fails a test.
	var slowest time.Duration
	for range 3 {
		start := time.Now()
		work()
		slowest = max(slowest, time.Since(start))
	}
	if measured := float64(slowest) / float64(referenceWork); measured > 1 {
		f *= min(measured, 20)
	}
	return f
})

// work is a fixed piece of allocation and map work, the kind tests do.
func work() {
	m := make(map[int][]byte, 1000)
	for i := 0; i < 200000; i++ {
		m[i%1000] = append(m[i%1000][:0], byte(i), byte(i>>8))
	}
}
