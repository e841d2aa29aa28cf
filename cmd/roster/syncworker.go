package main

import (
	"context"
	"os"

	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/runner"
	"github.com/rosterhq/roster/userbase"
)

// runSyncWorker is the sync worker's command: roster serve starts it to
// run one sync in a process of its own (see package runner's worker.go).
func runSyncWorker(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, runner.WorkerCommand, "-source-id ID -holder LEASE-HOLDER (started by roster serve)")
	store := addStoreFlags(fs, "", "")
	var w runner.WorkerRequest
	fs.Int64Var(&w.SourceID, "source-id", 0, "the source to sync")
	fs.StringVar(&w.Holder, "holder", "", "the lease holder (the roster serve node) whose lease this sync runs under")
	fs.BoolVar(&w.Incremental, "incremental", false, "an incremental sync")
	fs.BoolVar(&w.ApproveRemovals, "approve-removals", false, "carry out the removals the last run held")
	priority := fs.String("priority", string(runner.PriorityIdle), "the CPU priority to run at: idle, low or normal")
	if err := parse(fs, args); err != nil {
		return err
	}
	if w.SourceID <= 0 || w.Holder == "" {
		return usageErrorf("%s is started by roster serve, with -source-id and -holder", runner.WorkerCommand)
	}
	var err error
	if w.Priority, err = runner.ParsePriority(*priority); err != nil {
		return usageErrorf("-priority: %v", err)
	}
	place, err := store.place(a, "")
	if err != nil {
		return err
	}
	place.CacheKiB = userbase.SyncCacheKiB
	budget, restore := memoryBudget(a, place)
	defer restore()
	return runner.Work(ctx, os.Stdin, a.stdout, a.log, w, func(ctx context.Context) (*runner.Runner, func(), error) {
		db, err := place.Open(ctx)
		if err != nil {
			return nil, nil, err
		}
		if db.Sealer, err = secretSealer(a, place.Dir); err != nil {
			db.Close()
			return nil, nil, err
		}
		hash, err := datadir.PrintCodeHasher(place.Dir, true) // the server's key; never a throwaway one
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return &runner.Runner{Store: db, Hash: hash, Now: a.now, Log: a.log, Memory: budget, CPUs: syncCPUs(a)}, func() { db.Close() }, nil
	})
}
