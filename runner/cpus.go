package runner

import (
	"runtime"
	"sync"
)

// CPUs sets how many CPUs a sync process runs its Go code on
// (GOMAXPROCS), run by run: one while the run reads the directory and
// compares, all that the runtime would use (its default, which follows
// the machine and the container's CPU limit) once the run has created
// users in bulk.
//
// Why: a sync of a directory that changed little spends its time waiting
// for the directory's next entries, and on more than one CPU the runtime
// pays for each wait in threads put to sleep and woken. With bench/sync's
// 100,000 users, on 2 CPUs beside slapd, an unchanged sync made 1,867
// futex calls, 2,901 epoll waits and 902 reads that found nothing on two
// CPUs, against 150, 282 and 112 on one (strace -c), and took 1.20 s on
// one (1.18 s of CPU) against 1.53 s on two (1.66 s of CPU), medians of 8
// alternating runs: CPU the directory needed, when it runs on the same
// machine, and a terminal's lookup in roster serve. A sync that updated
// 10 % of the users took 1.82 s against 2.12 s; one that updated them all
// 4.97 s against 4.87 s, in 5.05 s of CPU against 5.83 s. A first sync is
// the exception: its inserts run beside the reading, and one CPU made it
// 11 % slower (4.49 s against 4.03 s). So a run widens once it has
// created widenAfter users, and stays wide to its end.
//
// It is for processes that only sync (roster sync, the worker roster
// serve starts): GOMAXPROCS is the whole process's. A Runner runs one
// sync at a time, and so does a CPUs.
type CPUs struct {
	mu   sync.Mutex
	wide bool
}

// widenAfter is how many users a run creates (or plans to: the engine
// writes in batches of 5,000) before it runs on every CPU: a directory
// page of new users (ldap.MaxPageSize).
const widenAfter = 1000

// start narrows the process to one CPU for a new run, and returns what
// gives it back the runtime's default.
func (c *CPUs) start() (restore func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wide = false
	runtime.GOMAXPROCS(1)
	return func() { runtime.SetDefaultGOMAXPROCS() }
}

// created learns, after each page, how many users the run has created
// or planned to, and widens the process once they reach widenAfter: the
// reading of the next pages then runs beside the writes.
func (c *CPUs) created(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.wide && n >= widenAfter {
		c.wide = true
		runtime.SetDefaultGOMAXPROCS()
	}
}
