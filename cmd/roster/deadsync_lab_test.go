package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/runner"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/userbase"
)

// killedWhileSyncing waits until source's run is recorded and a page of
// users is written, kills cmd (SIGKILL) and reaps it, checks that the run
// is still recorded as running, and returns the run's ID and when the
// kill happened. out is the process's output, for messages.
func killedWhileSyncing(t *testing.T, db *sqlstore.DB, source int64, cmd *exec.Cmd, out fmt.Stringer) (int64, time.Time) {
	t.Helper()
	ctx := context.Background()
	var run *roster.Run
	deadline := time.Now().Add(labenv.Budget(60 * time.Second))
	for run == nil && time.Now().Before(deadline) {
		runs, err := db.Runs(ctx, source, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, n, err := db.FindUsers(ctx, roster.UserFilter{SourceID: source, Limit: 1}); err == nil && n > 0 && len(runs) == 1 && runs[0].Status == roster.RunRunning {
			run = runs[0]
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if run == nil {
		t.Fatalf("no run recorded and no user written within 60 s\n%s", out)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed := time.Now()
	if r, err := db.Run(ctx, run.ID); err != nil || r.Status != roster.RunRunning {
		t.Fatalf("run %d ended before its process was killed (%+v, %v); the proxy is not slow enough", run.ID, r, err)
	}
	return run.ID, killed
}

// checkDiedRun checks that a run whose process (pid) was killed is
// recorded as failed, saying so, and removed nobody.
func checkDiedRun(t *testing.T, db *sqlstore.DB, runID int64, pid int) {
	t.Helper()
	r, err := db.Run(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if r.Status != roster.RunFailed || r.FinishedAt.IsZero() || r.Disabled != 0 || r.Deleted != 0 ||
		!strings.Contains(r.Error, fmt.Sprintf("(PID %d on %s) ended before the sync did", pid, host)) {
		t.Fatalf("the killed run: %s, %s, error %q", r.Status, counts(*r), r.Error)
	}
}

// kill -9 of roster sync: the next roster sync on the same data folder
// starts at once (the dead process's lease is taken over, not waited
// out), closes the killed run as failed with the reason, and completes
// the work, removing nobody; on SQLite and on PostgreSQL.
func TestASyncAfterAKilledSyncStartsAtOnce(t *testing.T) {
	env := labenv.Require(t)
	if !runner.Here().Located() {
		t.Skipf("this machine does not say where its PIDs live (%+v): leases only run out", runner.Here())
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want := len(env.Data(t, labenv.AD).Users)
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			ctx := context.Background()
			data := t.TempDir()
			args := syncArgs(env, labenv.AD, data, "corp", "")
			var db *sqlstore.DB
			if store == "postgres" {
				dsn := env.PostgresDatabase(t)
				args = append(args, "-db", dsn)
				db, err = postgres.Open(ctx, dsn)
			} else {
				db, err = userbase.OpenSQLite(filepath.Join(data, "roster.db"))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			source, err := db.SourceID(ctx, "corp")
			if err != nil {
				t.Fatal(err)
			}

			// A sync through a slow proxy, killed once its first page is in.
			slow := append([]string(nil), args...)
			for i := range slow {
				if slow[i] == "-address" {
					slow[i+1] = loopbackProxy(t, strings.TrimPrefix(env.Get("LAB_AD_LDAPS_URL"), "ldaps://"), 0, 40*time.Millisecond)
				}
			}
			// The PostgreSQL URL, password and all, goes in the child's
			// environment, not on its command line where ps shows it.
			childEnv := []string{"ROSTER_TEST_MAIN=1", "PATH=" + os.Getenv("PATH")}
			for i := 0; i+1 < len(slow); i++ {
				if slow[i] == "-db" {
					childEnv = append(childEnv, "ROSTER_DB="+slow[i+1])
					slow = append(slow[:i], slow[i+2:]...)
					break
				}
			}
			cmd := exec.Command(exe, slow...)
			cmd.Env = childEnv
			var out lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			runID, killed := killedWhileSyncing(t, db, source, cmd, &out)

			// The next sync: not refused, at once.
			code, stdout, stderr := runCLI(t, nil, append(args, "-json")...)
			took := time.Since(killed)
			if code != exitOK || strings.Contains(stderr, "being synced") {
				t.Fatalf("the sync after the killed one = %d\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "its lease is taken over at once") {
				t.Errorf("the take-over is not logged:\n%s", stderr)
			}
			checkDiedRun(t, db, runID, cmd.Process.Pid)
			runs, err := db.Runs(ctx, source, 2)
			if err != nil || len(runs) != 2 || runs[0].ID == runID {
				t.Fatalf("runs: %v, %v", runs, err)
			}
			next := runs[0]
			if next.Status != roster.RunSucceeded || next.Seen != want || next.Disabled != 0 || next.Deleted != 0 {
				t.Fatalf("the run after the killed one: %s, %s", next.Status, counts(*next))
			}
			if wait := next.StartedAt.Sub(killed); wait > takeOverBudget() {
				t.Errorf("the next run started %s after the kill; the killed sync's lease (1 min) was waited out", wait)
			}
			if _, n, err := db.FindUsers(ctx, roster.UserFilter{SourceID: source}); err != nil || n != want {
				t.Errorf("%d users (%v), want the directory's %d", n, err, want)
			}
			t.Logf("killed run %d after %d users written; the next sync started %s after the kill and finished %s after it (created %d)",
				runID, want-next.Created, next.StartedAt.Sub(killed).Round(time.Millisecond), took.Round(time.Millisecond), next.Created)
		})
	}
}

// kill -9 of roster serve while its sync worker runs: the worker dies
// with it, and a roster sync of the same source from the command line
// starts at once, closing the run as failed with the reason.
func TestASyncAfterAKilledServerStartsAtOnce(t *testing.T) {
	env := labenv.Require(t)
	if !runner.Here().Located() {
		t.Skipf("this machine does not say where its PIDs live (%+v): leases only run out", runner.Here())
	}
	const adminPW = "Killed-Server-Admin-Password-1"
	data := t.TempDir()
	n := startNode(t, "node", []string{"ROSTER_ADMIN_PASSWORD=" + adminPW}, "-data", data)
	api := signIn(t, n.url, adminPW)
	source := createSlowSource(t, env, api, "slow", 40*time.Millisecond, nil)
	code, body := api.call("POST", fmt.Sprintf("/api/v1/sources/%d/sync", source), nil)
	if code != 202 {
		t.Fatalf("sync = %d %v", code, body)
	}
	db, err := userbase.OpenSQLite(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runID, killed := killedWhileSyncing(t, db, source, n.cmd, stringer(n.logs))

	code, stdout, stderr := runCLI(t, nil, "sync", "-data", data, "-source", "slow")
	if code != exitOK || strings.Contains(stderr, "being synced") {
		t.Fatalf("roster sync after the killed server = %d\n%s%s", code, stdout, stderr)
	}
	checkDiedRun(t, db, runID, n.cmd.Process.Pid)
	runs, err := db.Runs(context.Background(), source, 1)
	if err != nil || len(runs) != 1 || runs[0].Status != roster.RunSucceeded || runs[0].Disabled != 0 {
		t.Fatalf("the run after the killed server: %+v, %v", runs, err)
	}
	if wait := runs[0].StartedAt.Sub(killed); wait > takeOverBudget() {
		t.Errorf("the next run started %s after the kill", wait)
	}
}

// stringer makes a func a fmt.Stringer.
type stringer func() string

func (s stringer) String() string { return s() }

// kill -9 of roster serve mid-sync, then the server started again: its
// first look closes the killed run as failed, with the reason, though no
// sync of the source follows and the dead server's lease (10 minutes
// here) has long to run.
func TestARestartedServerClosesTheRunsOfItsKilledSelf(t *testing.T) {
	env := labenv.Require(t)
	if !runner.Here().Located() {
		t.Skipf("this machine does not say where its PIDs live (%+v): leases only run out", runner.Here())
	}
	const adminPW = "Killed-Server-Admin-Password-1"
	data := t.TempDir()
	n := startNode(t, "node", []string{"ROSTER_ADMIN_PASSWORD=" + adminPW}, "-data", data, "-lease", "10m")
	api := signIn(t, n.url, adminPW)
	source := createSlowSource(t, env, api, "slow", 40*time.Millisecond, nil)
	if code, body := api.call("POST", fmt.Sprintf("/api/v1/sources/%d/sync", source), nil); code != 202 {
		t.Fatalf("sync = %d %v", code, body)
	}
	db, err := userbase.OpenSQLite(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runID, _ := killedWhileSyncing(t, db, source, n.cmd, stringer(n.logs))

	startNode(t, "again", []string{"ROSTER_ADMIN_PASSWORD=" + adminPW}, "-data", data)
	// Bounded far below the dead lease's 10 minutes, which is what the
	// run would otherwise wait for.
	for deadline := time.Now().Add(labenv.Budget(2 * time.Minute)); ; time.Sleep(100 * time.Millisecond) {
		r, err := db.Run(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != roster.RunRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed run is still running 2 minutes after the server started again")
		}
	}
	checkDiedRun(t, db, runID, n.cmd.Process.Pid)
}

// takeOverBudget bounds how long after a kill the next sync may start:
// scaled to the machine, but always well short of the killed sync's lease
// (1 min), which a take-over must not wait out.
func takeOverBudget() time.Duration {
	return min(labenv.Budget(10*time.Second), runner.DefaultLeaseTTL*3/4)
}
