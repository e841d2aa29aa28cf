package runner

import (
	"context"
	"runtime"
	"sync"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/reconcile"
)

// CPUs sets how many CPUs a sync process runs its Go code on
// (GOMAXPROCS), run by run: one while the run reads the directory and
// compares, all that the runtime would use (its default, which follows
// the machine and the container's CPU limit) once the run has created
// users in bulk.
//
// Why: a sync of a directory that changed little spends its time waiting
// for the directory's next entries. With a second CPU, the runtime hands
// the reader's every wake-up from one thread to another, and the other
// thread spins looking for work: CPU the directory needed, when it runs
// on the same machine, and a terminal's lookup in roster serve. With
// bench/sync's 100,000 users, on 2 CPUs beside slapd, an unchanged sync
// took 1.20 s on one (1.18 s of CPU) against 1.53 s on two (1.66 s of
// CPU), medians of 8 alternating runs; one that updated 10 % of the users
// 1.82 s against 2.12 s; one that updated them all 4.97 s against 4.87 s,
// in 5.05 s of CPU against 5.83 s. A first sync is the exception: its
// inserts run beside the reading, and one CPU made it 11 % slower (4.49 s
// against 4.03 s). So a run widens once it has created widenAfter users,
// and stays wide to its end.
//
// It is for processes that only sync (roster sync, the worker roster
// serve starts): GOMAXPROCS is the whole process's. A Runner runs one
// sync at a time, and so does a CPUs.
type CPUs struct {
	mu      sync.Mutex
	created int
	wide    bool
}

// widenAfter is how many users a run creates before it runs on every
// CPU: a directory page of new users (ldap.MaxPageSize).
const widenAfter = 1000

// start narrows the process to one CPU for a new run, and returns what
// gives it back the runtime's default.
func (c *CPUs) start() (restore func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created, c.wide = 0, false
	runtime.GOMAXPROCS(1)
	return func() { runtime.SetDefaultGOMAXPROCS() }
}

// creating counts n users the run is about to create, and widens the
// process once they reach widenAfter: before the write, so that the
// reading of the next pages runs beside it.
func (c *CPUs) creating(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created += n
	if !c.wide && c.created >= widenAfter {
		c.wide = true
		runtime.SetDefaultGOMAXPROCS()
	}
}

// countCreates is a store that tells cpus how many users each Apply
// creates.
type countCreates struct {
	reconcile.Store
	cpus *CPUs
}

func (s countCreates) Apply(ctx context.Context, sourceID int64, changes []roster.Change) ([]int64, error) {
	n := 0
	for i := range changes {
		if changes[i].Kind == roster.Create {
			n++
		}
	}
	if n > 0 {
		s.cpus.creating(n)
	}
	return s.Store.Apply(ctx, sourceID, changes)
}
