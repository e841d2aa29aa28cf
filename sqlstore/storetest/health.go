package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/rosterhq/roster"
)

// Ping answers for the readiness check: nil while the database answers,
// the driver's error (no roster code) when it does not.
func testPing(t *testing.T, o Opener) {
	db, _, _ := open(t, o)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatalf("Ping of an open store = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rerr *roster.Error
	if err := db.Ping(ctx); err == nil || errors.As(err, &rerr) {
		t.Errorf("Ping past its context's end = %v; want the driver's error", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(context.Background()); err == nil || errors.As(err, &rerr) {
		t.Errorf("Ping of a closed store = %v; want the driver's error", err)
	}
}

// RunCounts counts the runs of every source by status, running ones
// included, for the metrics; a status no run has is absent.
func testRunCounts(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	lab, _ := db.SourceID(ctx, "lab")
	if got, err := db.RunCounts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("RunCounts of a new store = %v, %v; want none", got, err)
	}
	for _, r := range []struct {
		source int64
		mode   roster.RunMode
		status roster.RunStatus
	}{
		{corp, roster.RunFull, roster.RunSucceeded},
		{corp, roster.RunIncremental, roster.RunSucceeded},
		{corp, roster.RunFull, roster.RunHeld},
		{corp, roster.RunFull, roster.RunRunning},
		{lab, roster.RunFull, roster.RunSucceeded},
		{lab, roster.RunIncremental, roster.RunFailed},
	} {
		run := &roster.Run{SourceID: r.source, Mode: r.mode}
		if err := db.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if r.status != roster.RunRunning {
			run.Status = r.status
			if err := db.FinishRun(ctx, run); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := db.RunCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[roster.RunStatus]int{roster.RunSucceeded: 3, roster.RunHeld: 1, roster.RunRunning: 1, roster.RunFailed: 1}
	if len(got) != len(want) {
		t.Errorf("RunCounts = %v, want %v (no cancelled entry)", got, want)
	}
	for st, n := range want {
		if got[st] != n {
			t.Errorf("RunCounts[%s] = %d, want %d (all of %v)", st, got[st], n, got)
		}
	}
}
