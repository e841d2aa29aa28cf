package runner

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlite"
)

func testRunner(t *testing.T) *Runner {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Runner{Store: db, Hash: func(c string) string { return "h" + c }, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
}

func TestSyncRecordsAFailedConnection(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	src := &roster.Source{Name: "corp", Type: roster.OpenLDAP, Address: labenv.ClosedAddress(t), TLSMode: roster.LDAPS,
		Domain: "corp.test", Login: "uid=svc,dc=corp,dc=test", Password: "x", ConnectTimeout: 2 * time.Second}
	id, err := r.Store.SourceID(ctx, src.Name)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a dry run records nothing", func(t *testing.T) {
		started := false
		res, err := r.Sync(ctx, src, id, reconcile.Options{DryRun: true}, Hooks{Started: func(int64) { started = true }})
		if res != nil || err == nil || started {
			t.Fatalf("dry run against nothing = %v, %v, started %v", res, err, started)
		}
		if runs, _ := r.Store.Runs(ctx, id, 10); len(runs) != 0 {
			t.Fatalf("a dry run recorded %d runs", len(runs))
		}
	})
	t.Run("a sync records the failure as a run, says so, and removes nobody", func(t *testing.T) {
		var runID int64
		res, err := r.Sync(ctx, src, id, reconcile.Options{Incremental: true}, Hooks{Started: func(id int64) { runID = id }})
		if res != nil || roster.ErrorCode(err) != roster.EUNAVAILABLE {
			t.Fatalf("sync against nothing = %v, %v (%s)", res, err, roster.ErrorCode(err))
		}
		run, rerr := r.Store.Run(ctx, runID)
		if rerr != nil || run.Status != roster.RunFailed || run.Mode != roster.RunIncremental || run.Error != roster.ErrorMessage(err) ||
			len(run.Notes) == 0 || !strings.Contains(run.Notes[0], "nobody was disabled") {
			t.Fatalf("the recorded run: %+v, %v", run, rerr)
		}
	})
	t.Run("serve's sync of a stored source reports the failed run's status", func(t *testing.T) {
		src.ID = id
		status, err := r.syncStored(ctx, src, roster.SyncRequest{}, Hooks{})
		if status != roster.RunFailed || err == nil {
			t.Fatalf("syncStored = %q, %v", status, err)
		}
	})
}

func TestClaimSource(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	id, err := r.Store.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c, err := ClaimSource(ctx, r.Store, r.Log, dir, id, "corp", "node-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a second sync on the folder is refused, as the folder's lock", func(t *testing.T) {
		_, err := ClaimSource(ctx, r.Store, r.Log, dir, id, "corp", "node-b", time.Minute)
		if !errors.Is(err, datadir.ErrLocked) {
			t.Fatalf("second claim of the folder = %v", err)
		}
	})
	t.Run("another folder is refused by the source's lease", func(t *testing.T) {
		_, err := ClaimSource(ctx, r.Store, r.Log, t.TempDir(), id, "corp", "node-b", time.Minute)
		if roster.ErrorCode(err) != roster.ECONFLICT || errors.Is(err, datadir.ErrLocked) {
			t.Fatalf("claim from another folder = %v", err)
		}
	})
	t.Run("the claim's context carries the fence: a write under it after release is refused", func(t *testing.T) {
		c.Release()
		c.Release() // twice is harmless
		if c.Ctx.Err() == nil {
			t.Error("the claim's context is not cancelled by Release")
		}
		// Without the cancellation, the fence alone still refuses.
		run := &roster.Run{SourceID: id, Mode: roster.RunFull, StartedAt: time.Now()}
		if err := r.Store.StartRun(context.WithoutCancel(c.Ctx), run); roster.ErrorCode(err) != roster.ECONFLICT {
			t.Fatalf("a write under a released lease = %v", err)
		}
		again, err := ClaimSource(ctx, r.Store, r.Log, dir, id, "corp", "node-b", time.Minute)
		if err != nil {
			t.Fatalf("the claim after release: %v", err)
		}
		again.Release()
	})
}
