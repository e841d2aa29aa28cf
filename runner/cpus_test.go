package runner

import (
	"context"
	"runtime"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/reconcile"
)

// applied is a store whose Apply only counts its calls; the rest of
// reconcile.Store is not called.
type applied struct {
	reconcile.Store
	calls int
}

func (s *applied) Apply(ctx context.Context, sourceID int64, changes []roster.Change) ([]int64, error) {
	s.calls++
	return make([]int64, len(changes)), nil
}

func changes(kind roster.Kind, n int) []roster.Change {
	cs := make([]roster.Change, n)
	for i := range cs {
		cs[i].Kind = kind
	}
	return cs
}

// TestCPUsNarrowUntilTheRunCreatesInBulk runs a sync's writes through
// countCreates: one CPU while the run updates, however many, and creates
// fewer than widenAfter users; the runtime's default from the write that
// reaches widenAfter creations; the default again when the run ends, and
// one CPU at the next run's start.
func TestCPUsNarrowUntilTheRunCreatesInBulk(t *testing.T) {
	runtime.SetDefaultGOMAXPROCS()
	all := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.SetDefaultGOMAXPROCS() })
	if all < 2 {
		t.Skipf("the runtime's default is %d CPU: narrowing changes nothing to see", all)
	}
	c := &CPUs{}
	inner := &applied{}
	store := countCreates{Store: inner, cpus: c}
	ctx := context.Background()

	restore := c.start()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS at the run's start is %d, want 1", got)
	}
	steps := []struct {
		changes []roster.Change
		want    int
	}{
		{changes(roster.Update, 5000), 1},
		{changes(roster.Delete, 2000), 1},
		{changes(roster.Create, widenAfter-1), 1},
		{changes(roster.Create, 1), all},
		{changes(roster.Update, 10), all}, // wide to the run's end
	}
	for i, s := range steps {
		if _, err := store.Apply(ctx, 1, s.changes); err != nil {
			t.Fatal(err)
		}
		if got := runtime.GOMAXPROCS(0); got != s.want {
			t.Fatalf("after write %d (%d %v): GOMAXPROCS %d, want %d", i, len(s.changes), s.changes[0].Kind, got, s.want)
		}
	}
	if inner.calls != len(steps) {
		t.Fatalf("the store saw %d writes, want %d", inner.calls, len(steps))
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != all {
		t.Fatalf("GOMAXPROCS after the run is %d, want the default %d", got, all)
	}

	// A new run starts narrow, its count of creations from 0.
	restore = c.start()
	defer restore()
	if _, err := store.Apply(ctx, 1, changes(roster.Create, widenAfter-1)); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("a second run after %d creations runs on %d CPUs, want 1", widenAfter-1, got)
	}
}

// A runner with CPUs syncs the lab's OpenLDAP: its first sync widens once
// a page has created widenAfter users, the unchanged sync after it reads
// every page on one CPU, and after each run the process is back on the
// runtime's default.
func TestARunnerWithCPUsWidensForAFirstSyncOnly(t *testing.T) {
	env := labenv.Require(t)
	runtime.SetDefaultGOMAXPROCS()
	all := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.SetDefaultGOMAXPROCS() })
	if all < 2 {
		t.Skipf("the runtime's default is %d CPU: narrowing changes nothing to see", all)
	}
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
			if p.Phase == "users" {
				procs = append(procs, runtime.GOMAXPROCS(0))
			}
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
	if len(procs) == 0 || procs[len(procs)-1] != all {
		t.Errorf("the first sync's pages ran on %v CPUs; want the last on %d, after %d users created", procs, all, widenAfter)
	}

	res, procs = sync("unchanged sync")
	if res.Run.Created+res.Run.Updated != 0 || len(procs) == 0 {
		t.Fatalf("the second sync created %d and updated %d users, in %d pages; want an unchanged directory", res.Run.Created, res.Run.Updated, len(procs))
	}
	for i, n := range procs {
		if n != 1 {
			t.Errorf("the unchanged sync's page %d ran on %d CPUs, want 1", i+1, n)
		}
	}
}
