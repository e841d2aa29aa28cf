package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
)

// node is one roster serve process of a test.
type node struct {
	name string
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	log  strings.Builder
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// startNode runs roster serve as a process with args, and waits until it
// listens. The process is killed when the test ends.
func startNode(t *testing.T, name string, env []string, args ...string) *node {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: name}
	n.cmd = exec.Command(exe, append([]string{"serve", "-listen", "127.0.0.1:0"}, args...)...)
	n.cmd.Env = append([]string{"ROSTER_TEST_MAIN=1", "ROSTER_LOG_LEVEL=info", "PATH=" + os.Getenv("PATH")}, env...)
	out, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n.cmd.Stderr = n.cmd.Stdout // one stream: the log and the banner
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.cmd.Process.Kill(); n.cmd.Wait() })
	addr := regexp.MustCompile(`listening on (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for i := 0; i < 1_000_000 && s.Scan(); i++ { // bounded, like every loop here
			line := s.Text()
			n.mu.Lock()
			n.log.WriteString(line + "\n")
			n.mu.Unlock()
			if m := addr.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case n.url = <-found:
	case <-time.After(labenv.Budget(30 * time.Second)):
		t.Fatalf("node %s did not start:\n%s", name, n.logs())
	}
	return n
}

// TestSeveralNodesShareOnePostgres starts three roster serve processes on
// one PostgreSQL database, with a source synced every minute by schedule.
// Each scheduled run happens once, whichever node gets it; every node
// serves the API. Then the node running a sync is killed mid-run: another
// node closes the dead node's run and runs that slot again to the end,
// with nothing lost. The nodes share one machine, so the dead node's
// lease is taken over at once (its process is proved dead), not when it
// runs out; nodes on other machines wait for it to run out.
func TestSeveralNodesShareOnePostgres(t *testing.T) {
	env := labenv.Require(t)
	if testing.Short() {
		t.Skip("takes about three minutes of scheduled runs")
	}
	t.Parallel()
	dsn := env.PostgresDatabase(t)
	const adminPW = "Several-Nodes-Admin-Password-1"

	// Every node has its own data folder with the same keys.
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	a := &app{getenv: func(string) string { return "" }}
	if _, err := secretSealer(a, dirs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := datadir.PrintCodeHasher(dirs[0], true); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs[1:] {
		for _, f := range []string{"secret.key", "print-code.key"} {
			b, err := os.ReadFile(filepath.Join(dirs[0], f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("node%d", i+1), []string{"ROSTER_ADMIN_PASSWORD=" + adminPW, "ROSTER_DB=" + dsn},
			"-data", dirs[i], "-schedule-check", "1s", "-lease", "4s")
	}

	// The source, set up through node 1, reads the lab's AD through a
	// slow loopback proxy, so that a sync lasts long enough to be killed.
	api := func(n *node) *apiClient { return signIn(t, n.url, adminPW) }
	sourceID := createSlowSource(t, env, api(nodes[0]), "corp", 8*time.Millisecond, map[string]any{"full_schedule": "* * * * *"})

	raw, err := postgres.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	type runRow struct {
		id      int64
		status  string
		started time.Time
		created int
		seen    int
		errText string
	}
	runs := func() []runRow {
		rows, err := raw.Query(`SELECT id, status, started_at, created, seen, error FROM runs WHERE source_id = ` +
			strconv.FormatInt(sourceID, 10) + ` ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []runRow
		for rows.Next() {
			var r runRow
			if err := rows.Scan(&r.id, &r.status, &r.started, &r.created, &r.seen, &r.errText); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	dump := func() string {
		var b strings.Builder
		for _, r := range runs() {
			fmt.Fprintf(&b, "run %d %s at %s: seen %d created %d %s\n", r.id, r.status, r.started.Format(time.TimeOnly), r.seen, r.created, r.errText)
		}
		for _, n := range nodes {
			fmt.Fprintf(&b, "--- %s\n%s", n.name, n.logs())
		}
		return b.String()
	}
	waitFor := func(what string, limit time.Duration, ok func([]runRow) bool) []runRow {
		t.Helper()
		deadline := time.Now().Add(labenv.Budget(limit))
		for time.Now().Before(deadline) {
			if rs := runs(); ok(rs) {
				return rs
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("%s: not within %s\n%s", what, limit, dump())
		return nil
	}
	doneCount := func(rs []runRow) int {
		n := 0
		for _, r := range rs {
			if r.status != "running" {
				n++
			}
		}
		return n
	}

	// Slot 1: one run, to the end.
	rs := waitFor("the first scheduled run ends", 2*time.Minute, func(rs []runRow) bool { return doneCount(rs) >= 1 })
	first := rs[0]
	if first.status != "succeeded" || first.created < 1000 {
		t.Fatalf("the first run: %+v\n%s", first, dump())
	}
	users := first.created

	// Slot 2: one run again; kill the node that holds it, mid-run.
	rs = waitFor("the second scheduled run starts", 90*time.Second, func(rs []runRow) bool { return len(rs) >= 2 })
	second := rs[1]
	var holder string
	if err := raw.QueryRow(`SELECT holder FROM sync_leases WHERE source_id = ` + strconv.FormatInt(sourceID, 10)).Scan(&holder); err != nil {
		t.Fatalf("no lease while run %d goes on: %v\n%s", second.id, err, dump())
	}
	pid, _ := strconv.Atoi(strings.Split(holder, "/")[1])
	var victim *node
	for _, n := range nodes {
		if n.cmd.Process.Pid == pid {
			victim = n
		}
	}
	if victim == nil {
		t.Fatalf("the lease holder %s is none of the nodes", holder)
	}
	// Checked before the kill, not after: a surviving node checks every
	// second, and may close the dead node's run before this test looks
	// (CI #55: 0.18 s after the kill).
	if r := runs()[1]; r.status != "running" {
		t.Fatalf("run %d ended (%s) before its node was killed; the proxy is not slow enough\n%s", r.id, r.status, dump())
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	killedAt := time.Now()

	// A surviving node takes over at its next check: it closes the dead
	// node's run and runs the slot that run left unfinished, to the end.
	rs = waitFor("a surviving node finishes the slot", 90*time.Second, func(rs []runRow) bool { return doneCount(rs) >= 3 })
	// A fourth run may have begun: the next minute's slot, on a slow
	// machine. The check below, one run a minute, catches a slot run twice.
	if len(rs) < 3 {
		t.Fatalf("%d runs, want 3\n%s", len(rs), dump())
	}
	if r := rs[1]; r.status != "failed" || !strings.Contains(r.errText, fmt.Sprintf("(PID %d on ", pid)) || !strings.Contains(r.errText, "ended before the sync did") {
		t.Errorf("the killed node's run: %+v", r)
	}
	third := rs[2]
	if third.status != "succeeded" || third.seen != users || third.created != 0 {
		t.Errorf("the run after the take-over: %+v (want succeeded, seen %d, nothing to create)", third, users)
	}
	// A node's next check (1 s) starts it, without waiting for the lease
	// (4 s) to run out.
	if wait := third.started.Sub(killedAt); wait > 30*time.Second {
		t.Errorf("the take-over started %s after the kill", wait)
	}

	// Each slot ran once: apart from the abandoned run, no two runs in
	// one minute.
	for i := 1; i < len(rs); i++ {
		if i-1 != 1 && rs[i].started.Truncate(time.Minute).Equal(rs[i-1].started.Truncate(time.Minute)) {
			t.Errorf("runs %d and %d started in the same minute slot\n%s", rs[i-1].id, rs[i].id, dump())
		}
	}
	var total, disabled int
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE disabled) FROM users`).Scan(&total, &disabled); err != nil || total != users {
		t.Errorf("%d users after the take-over (%v), want %d", total, err, users)
	}
	// Only the accounts disabled in the directory itself are disabled.
	want := 0
	for _, u := range env.Data(t, labenv.AD).Users {
		if u.Disabled {
			want++
		}
	}
	if disabled != want {
		t.Errorf("%d users disabled after the take-over, want the directory's %d", disabled, want)
	}

	// Every surviving node serves the API, and sees every node's runs.
	for _, n := range nodes {
		if n == victim {
			continue
		}
		code, body := api(n).call("GET", "/api/v1/runs", nil)
		list, _ := body["runs"].([]any)
		if code != 200 || len(list) < len(rs) {
			t.Errorf("%s: GET /api/v1/runs = %d, %d runs, want %d or more: %v", n.name, code, len(list), len(rs), body)
		}
	}
	var skipped int
	for _, n := range nodes {
		skipped += strings.Count(n.logs(), "a scheduled sync is not needed")
	}
	t.Logf("runs: %d; slots another node had run already: %d; take-over %s after the kill", len(rs), skipped, third.started.Sub(killedAt).Round(time.Second))
}
