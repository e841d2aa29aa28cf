package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/runner"
	"github.com/rosterhq/roster/sqlite"
)

// slowSyncServer starts roster serve in this process with a source that
// reads the lab's AD through a slow proxy, so that a sync lasts seconds.
// It returns the API client, the data folder, the source's ID and stop.
func slowSyncServer(t *testing.T, logs *lockedBuffer) (*apiClient, string, string, func() int) {
	t.Helper()
	env := labenv.Require(t)
	const adminPW = "Worker-Admin-Password-1"
	data := t.TempDir()
	url, _, stop := serveLogged(t, map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, data, logs)
	a := signIn(t, url, adminPW)
	id := createSlowSource(t, env, a, "slow", 40*time.Millisecond, nil)
	return a, data, fmt.Sprint(id), stop
}

// createSlowSource sets up, through a, a source that reads the lab's AD
// through a loopback proxy pausing between reads, so that a sync lasts
// long enough to be watched, cancelled or killed; extra adds settings.
func createSlowSource(t *testing.T, env *labenv.Env, a *apiClient, name string, pause time.Duration, extra map[string]any) int64 {
	t.Helper()
	ca, _ := os.ReadFile(env.Get("LAB_CA_FILE"))
	proxy := loopbackProxy(t, strings.TrimPrefix(env.Get("LAB_AD_LDAPS_URL"), "ldaps://"), 0, pause)
	form := map[string]any{"name": name, "type": "entra-ds", "address": proxy, "tls": "ldaps",
		"domain": "corp.test", "login": "svc-print@corp.test", "password": env.Get("LAB_BIND_PASSWORD"), "ca_pem": string(ca)}
	for k, v := range extra {
		form[k] = v
	}
	code, body := a.call("POST", "/api/v1/sources", form)
	if code != 201 {
		t.Fatalf("create the source %s = %d %v", name, code, body)
	}
	return int64(body["id"].(float64))
}

// startSlowSync starts a sync and waits until its worker process runs
// and has reported entries seen; it returns the run's ID and the worker's PID.
func startSlowSync(t *testing.T, a *apiClient, sourceID string) (string, int) {
	t.Helper()
	code, body := a.call("POST", "/api/v1/sources/"+sourceID+"/sync", nil)
	if code != 202 {
		t.Fatalf("sync = %d %v", code, body)
	}
	runID := fmt.Sprint(int(body["run_id"].(float64)))
	deadline := time.Now().Add(labenv.Budget(30 * time.Second))
	for time.Now().Before(deadline) {
		_, p := a.call("GET", "/api/v1/runs/"+runID+"/progress", nil)
		if seen, _ := p["seen"].(float64); seen > 0 && p["done"] == false {
			if pids := workerPIDs(t); len(pids) == 1 {
				return runID, pids[0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, p := a.call("GET", "/api/v1/runs/"+runID+"/progress", nil)
	t.Fatalf("run %s did not report progress from one sync process within 30 s (workers: %v, progress %v)", runID, workerPIDs(t), p)
	return "", 0
}

// workerPIDs lists the sync-worker processes whose parent is this test.
func workerPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "\x00"+runner.WorkerCommand+"\x00") {
			continue
		}
		if ppid, _ := procStat(pid, 4); ppid == os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat returns field n (1-based, as proc(5) counts) of a process's or
// thread's stat file, as a number.
func procStat(pid int, n int, task ...int) (int, error) {
	path := filepath.Join("/proc", strconv.Itoa(pid), "stat")
	if len(task) > 0 {
		path = filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(task[0]), "stat")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	fields := strings.Fields(rest)
	return strconv.Atoi(fields[n-3])
}

// A sync started by roster serve runs in a process of its own, in the idle
// scheduling class at niceness 19 on every thread, reports its progress to the
// server, and stops when an admin cancels it: the run is recorded as
// cancelled, by the worker, which then exits.
// schedIdle is Linux's SCHED_IDLE scheduling class (sched(7)), written
// here apart from package runner's, so that the test checks it.
const schedIdle = 5

func TestSyncRunsInALowPriorityProcess(t *testing.T) {
	var logs lockedBuffer
	a, _, sourceID, stop := slowSyncServer(t, &logs)
	// A password in the server's environment that a worker has no use for.
	t.Setenv("ROSTER_ADMIN_PASSWORD", "Not-For-Workers-1")
	runID, pid := startSlowSync(t, a, sourceID)
	environ, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil || strings.Contains(string(environ), "Not-For-Workers-1") || !strings.Contains("\x00"+string(environ), "\x00ROSTER_DB=") {
		t.Errorf("the worker's environment (%v) holds the admin password, or lacks ROSTER_DB", err)
	}

	tasks, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("the worker's threads: %v", err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		nice, err := procStat(pid, 19, tid)
		if err != nil {
			continue // the thread ended meanwhile
		}
		policy, err := procStat(pid, 41, tid)
		if err != nil {
			continue
		}
		if nice != 19 || policy != schedIdle {
			t.Errorf("thread %d of the sync process runs at niceness %d in scheduling class %d; want 19 and SCHED_IDLE (%d)", tid, nice, policy, schedIdle)
		}
	}
	cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if strings.Contains(string(cmdline), "roster.db") || strings.Contains(string(cmdline), labenv.Require(t).Get("LAB_BIND_PASSWORD")) {
		t.Errorf("the worker's command line shows the user base or a password: %q", cmdline)
	}

	if code, body := a.call("POST", "/api/v1/runs/"+runID+"/cancel", nil); code != 202 && code != 200 {
		t.Fatalf("cancel = %d %v", code, body)
	}
	deadline := time.Now().Add(labenv.Budget(20 * time.Second))
	for time.Now().Before(deadline) && len(workerPIDs(t)) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if pids := workerPIDs(t); len(pids) > 0 {
		t.Fatalf("the sync process %v still runs 20 s after the cancel", pids)
	}
	_, run := a.call("GET", "/api/v1/runs/"+runID, nil)
	if run["Status"] != string(roster.RunCancelled) || run["Disabled"] != 0.0 || strings.HasPrefix(fmt.Sprint(run["FinishedAt"]), "0001") {
		t.Fatalf("the cancelled run: %v", run)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, logs.String())
	}
	if strings.Contains(logs.String(), labenv.Require(t).Get("LAB_BIND_PASSWORD")) {
		t.Error("the log holds the bind password")
	}
}

// A sync process that dies (kill -9, a crash) leaves no run "running":
// the server records it as failed, says why, and the source can sync
// again at once.
func TestAKilledSyncProcessIsRecordedAsFailed(t *testing.T) {
	var logs lockedBuffer
	a, data, sourceID, stop := slowSyncServer(t, &logs)
	runID, pid := startSlowSync(t, a, sourceID)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var run map[string]any
	deadline := time.Now().Add(labenv.Budget(20 * time.Second))
	for time.Now().Before(deadline) {
		_, run = a.call("GET", "/api/v1/runs/"+runID, nil)
		if run["Status"] != string(roster.RunRunning) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	msg, _ := run["Error"].(string)
	if run["Status"] != string(roster.RunFailed) || !strings.Contains(msg, "sync process ended before the sync did") || run["Disabled"] != 0.0 {
		t.Fatalf("the run whose process was killed: %v", run)
	}
	// The source is free: the lease and the data folder's lock are let go.
	code, body := a.call("POST", "/api/v1/sources/"+sourceID+"/sync", nil)
	if code != 202 {
		t.Fatalf("a sync after the killed one = %d %v", code, body)
	}
	next := fmt.Sprint(int(body["run_id"].(float64)))
	a.call("POST", "/api/v1/runs/"+next+"/cancel", nil)
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d\n%s", code, logs.String())
	}
	db, err := sqlite.Open(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, _ := strconv.ParseInt(next, 10, 64)
	if r, err := db.Run(context.Background(), id); err != nil || r.Status == roster.RunRunning {
		t.Fatalf("the next run after shutdown: %+v, %v", r, err)
	}
}
