package runner

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/reconcile"
)

// defaultCPUs returns the runtime's default GOMAXPROCS, and puts back
// the one the test found when it ends (go test -cpu sets it). It skips
// the test when GOMAXPROCS is set in the environment, or the default is
// one CPU: narrowing then changes nothing to see.
func defaultCPUs(t *testing.T) int {
	t.Helper()
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		t.Skipf("GOMAXPROCS=%s is set: roster leaves it alone", v)
	}
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	runtime.SetDefaultGOMAXPROCS()
	all := runtime.GOMAXPROCS(0)
	if all < 2 {
		t.Skipf("the runtime's default is %d CPU: narrowing changes nothing to see", all)
	}
	return all
}

// TestCPUsNarrowUntilTheRunCreatesInBulk: one CPU from a run's start
// while it has created fewer than widenAfter users, the runtime's default
// from the page that reaches widenAfter to the run's end, the default
// again when the run ends, and the same again for the next run.
func TestCPUsNarrowUntilTheRunCreatesInBulk(t *testing.T) {
	all := defaultCPUs(t)
	c := &CPUs{}
	restore := c.start()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS at the run's start is %d, want 1", got)
	}
	for i, s := range []struct{ created, want int }{
		{0, 1},
		{widenAfter - 1, 1},
		{widenAfter, all},
		{widenAfter + 5000, all},
	} {
		c.created(s.created)
		if got := runtime.GOMAXPROCS(0); got != s.want {
			t.Fatalf("page %d, %d users created: GOMAXPROCS %d, want %d", i+1, s.created, got, s.want)
		}
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != all {
		t.Fatalf("GOMAXPROCS after the run is %d, want the default %d", got, all)
	}

	// The next run starts narrow, and widens again.
	restore = c.start()
	defer restore()
	c.created(widenAfter - 1)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("a second run after %d creations runs on %d CPUs, want 1", widenAfter-1, got)
	}
	c.created(widenAfter)
	if got := runtime.GOMAXPROCS(0); got != all {
		t.Fatalf("a second run after %d creations runs on %d CPUs, want %d", widenAfter, got, all)
	}
}

// A runner with CPUs syncs the lab's OpenLDAP: its first sync reads the
// groups on one CPU and widens once a page has created widenAfter users,
// the unchanged sync after it reads everything on one CPU, and after each
// run the process is back on the runtime's default.
func TestARunnerWithCPUsWidensForAFirstSyncOnly(t *testing.T) {
	env := labenv.Require(t)
	all := defaultCPUs(t)
	ctx := context.Background()
	r := testRunner(t)
	r.CPUs = &CPUs{}
	src := env.Source(t, labenv.OpenLDAP, roster.LDAPS)
	id, err := r.Store.SourceID(ctx, src.Name)
	if err != nil {
		t.Fatal(err)
	}
	sync := func(what string) (*reconcile.Result, []int) {
		var procs []int
		res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{Progress: func(p reconcile.Progress) {
			procs = append(procs, runtime.GOMAXPROCS(0))
		}})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := runtime.GOMAXPROCS(0); got != all {
			t.Fatalf("after the %s, GOMAXPROCS is %d, want the default %d", what, got, all)
		}
		return res, procs
	}

	res, procs := sync("first sync")
	if res.Run.Created <= widenAfter {
		if labenv.Required() {
			t.Fatalf("the first sync created %d users; the lab has %s (LAB_USERS), and the test needs more than %d", res.Run.Created, env.Get("LAB_USERS"), widenAfter)
		}
		t.Skipf("the lab's OpenLDAP has %d users: the test needs more than %d", res.Run.Created, widenAfter)
	}
	if len(procs) < 2 || procs[0] != 1 || procs[len(procs)-1] != all {
		t.Errorf("the first sync's phases ran on %v CPUs; want the groups on 1 and the last page on %d, after %d users created", procs, all, widenAfter)
	}

	res, procs = sync("unchanged sync")
	if res.Run.Created+res.Run.Updated != 0 || len(procs) == 0 {
		t.Fatalf("the second sync created %d and updated %d users, in %d pages; want an unchanged directory", res.Run.Created, res.Run.Updated, len(procs))
	}
	for i, n := range procs {
		if n != 1 {
			t.Errorf("the unchanged sync's step %d of %d ran on %d CPUs, want 1", i+1, len(procs), n)
		}
	}
}
