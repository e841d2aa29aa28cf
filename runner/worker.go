package runner

// roster serve runs each sync in a child process of its own, "roster
// sync-worker", at a lower CPU priority. Inside one Go process, a sync's
// goroutines and a print terminal's lookup share the same few threads
// without priorities, so a lookup waits behind the sync (a p99 of about
// 5 ms on two cores, against under 1 ms alone). In a child at a lower CPU
// priority (-sync-priority: Linux's idle class by default), the kernel
// lets the lookups go first; the sync also keeps its
// memory and its garbage collection to itself, and a crash in it leaves
// the server standing.
//
// The parent keeps everything that must outlive the child or answer the
// console: the data folder's lock, the source's lease and its renewal, the
// run's live progress, and cancellation. The child writes under the
// parent's lease (its fence names the parent as holder), so a child that
// outlives its lease writes nothing, exactly as a sync inside serve.
//
// The two talk in JSON lines: the child reports on its stdout (the run's
// ID, its progress, its end); the parent sends a cancellation, with its
// cause, on the child's stdin, and closing stdin cancels too. The child's
// log goes to the parent's log.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore"
)

// WorkerCommand is the hidden roster command a sync worker runs. Its
// flags (see workerArgs) are the protocol's other half: the command line
// parses them into a WorkerRequest for Work.
const WorkerCommand = "sync-worker"

// Priority is how a sync worker yields the CPU to the server. A sync is
// never in a hurry; a person waits at the printer.
type Priority string

const (
	PriorityIdle   Priority = "idle"   // SCHED_IDLE and niceness 19: it runs when nothing else wants the CPU
	PriorityLow    Priority = "low"    // niceness 19
	PriorityNormal Priority = "normal" // as the server
)

// ParsePriority reads a priority's name: idle, low or normal.
func ParsePriority(s string) (Priority, error) {
	switch p := Priority(s); p {
	case PriorityIdle, PriorityLow, PriorityNormal:
		return p, nil
	}
	return "", fmt.Errorf("%q is not idle, low or normal", s)
}

// workerEvent is one line from a sync worker.
type workerEvent struct {
	RunID   int64            `json:"run_id,omitempty"`  // the run is recorded
	Phase   string           `json:"phase,omitempty"`   // progress
	Seen    int              `json:"seen,omitempty"`    // progress
	Elapsed float64          `json:"elapsed,omitempty"` // progress, in seconds
	End     bool             `json:"end,omitempty"`     // the last line
	Status  roster.RunStatus `json:"status,omitempty"`  // with End: the run's status, "" when none was recorded
	Error   string           `json:"error,omitempty"`   // with End: why the sync failed, for the log
}

// workerCancel is the one line a parent may send: stop, for this reason
// ("" when an admin cancelled or roster serve is stopping).
type workerCancel struct {
	Cancel string `json:"cancel"`
}

// workerDropsEnv lists what of the server's environment a worker does not
// get: passwords it has no use for (the bind password comes sealed from
// the user base), the server's profile file, which a worker would
// truncate, and ROSTER_DB, which the server sets as it resolved it.
var workerDropsEnv = map[string]bool{
	"ROSTER_ADMIN_PASSWORD": true, "ROSTER_BIND_PASSWORD": true, "ROSTER_PFX_PASSWORD": true,
	"ROSTER_CPU_PROFILE": true, "ROSTER_DB": true,
}

// maxWorkerLine bounds a worker's report line; the worker cuts the one
// field that could grow (an error's text) well below it.
const maxWorkerLine = 1 << 20

// workerStopGrace is how long a cancelled worker has to record its run as
// cancelled before it is killed.
const workerStopGrace = 30 * time.Second

// syncInChild runs one sync of src in a sync worker process and relays its
// reports to h. It returns when the worker has exited.
func (s *Service) syncInChild(ctx context.Context, src *roster.Source, req roster.SyncRequest, h Hooks) (status roster.RunStatus, err error) {
	exe, err := workerExecutable()
	if err != nil {
		return "", fmt.Errorf("cannot find roster's own program to run the sync in: %w (roster serve -sync-in-process runs syncs inside the server)", err)
	}
	cmd := exec.Command(exe, workerArgs(s.dataDir, WorkerRequest{SourceID: src.ID, Holder: s.holder, Priority: s.Priority,
		Incremental: req.Incremental, ApproveRemovals: req.ApproveRemovals})...)
	// The user base's location goes in the environment, never on the
	// command line, which every local user can read: a PostgreSQL URL may
	// carry a password.
	cmd.Env = []string{"ROSTER_DB=" + s.DBLocation}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !workerDropsEnv[name] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for _, k := range []string{"ROSTER_LOG_LEVEL", "ROSTER_SECRET_KEY", "GOGC", "GOMEMLIMIT"} {
		if v := s.Getenv(k); v != "" { // this server's settings, as it sees them
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stderr = s.Stderr
	cmd.SysProcAttr = workerProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		stdin.Close()
		return "", err
	}
	// The worker is killed when the thread that started it ends
	// (workerProcAttr): keep this goroutine on its thread until then.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("cannot start the sync process %s: %w (roster serve -sync-in-process runs syncs inside the server)", exe, err)
	}

	exited := make(chan struct{})
	var stopper sync.WaitGroup
	stopper.Add(1)
	go func() { // cancellation: ask, then insist
		defer stopper.Done()
		select {
		case <-exited:
			stdin.Close()
			return
		case <-ctx.Done():
		}
		why := ""
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			why = roster.ErrorMessage(c)
		}
		json.NewEncoder(stdin).Encode(workerCancel{Cancel: why})
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(workerStopGrace):
			s.r.Log.Error("the sync process did not stop when asked; it is killed", "source", src.Name, "pid", cmd.Process.Pid)
			cmd.Process.Kill()
		}
	}()

	var runID int64
	var end *workerEvent
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), maxWorkerLine)
	for sc.Scan() {
		var ev workerEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue // not ours: a stray line must not stop the sync
		}
		switch {
		case ev.End:
			end = &ev
		case ev.RunID != 0 && runID == 0:
			runID = ev.RunID
			h.Started(runID)
		case ev.Phase != "":
			h.Progress(reconcile.Progress{Phase: ev.Phase, Seen: ev.Seen, Elapsed: time.Duration(ev.Elapsed * float64(time.Second))})
		}
	}
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	close(exited)
	stopper.Wait()

	if end != nil {
		if end.Error != "" {
			err = errors.New(end.Error)
		}
		return end.Status, err
	}
	// The worker died without its last word: a crash, or a kill. Its run
	// must not stay "running"; what it wrote is kept.
	err = fmt.Errorf("the sync process ended before the sync did (%v); roster serve's log holds what it wrote", waitErr)
	if runID != 0 {
		if ferr := s.r.closeCrashedRun(ctx, runID, err); ferr != nil {
			s.r.Log.Warn("cannot record the end of a sync whose process died", "run", runID, "err", ferr)
		}
		return roster.RunFailed, err
	}
	return "", err
}

// WorkerRequest is what a sync worker is asked to do, as its flags say.
type WorkerRequest struct {
	SourceID        int64    // -source-id: the stored source to sync
	Holder          string   // -holder: the parent whose lease the sync runs under
	Priority        Priority // -priority
	Incremental     bool     // -incremental
	ApproveRemovals bool     // -approve-removals
}

// workerArgs is the command line of a sync worker for w, on the data
// folder dir.
func workerArgs(dir string, w WorkerRequest) []string {
	args := []string{WorkerCommand, "-data", dir, "-source-id", strconv.FormatInt(w.SourceID, 10),
		"-holder", w.Holder, "-priority", string(w.Priority)}
	if w.Incremental {
		args = append(args, "-incremental")
	}
	if w.ApproveRemovals {
		args = append(args, "-approve-removals")
	}
	return args
}

// Work is a sync worker's side: one sync of a stored source, under the
// lease its parent holds. It lowers the process's priority, then opens
// the user base with open (which returns the Runner and what closes it),
// reads the source, and syncs it, reporting on out in JSON lines. The
// parent's cancellation arrives on in; in closing (the parent died)
// cancels too. Its outcome goes to the parent as the last line, so its
// own error is only for what could not be reported.
func Work(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger, w WorkerRequest,
	open func(context.Context) (*Runner, func(), error)) error {
	if err := LowerPriority(w.Priority); err != nil {
		log.Warn("the sync runs at normal priority", "err", err)
	}
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	report := func(ev workerEvent) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(ev)
	}
	status, err := workerSync(ctx, in, w, open, report)
	end := workerEvent{End: true, Status: status}
	if err != nil {
		end.Error = err.Error() // not written for admins, but the parent's log needs the cause
		if e := (*roster.Error)(nil); errors.As(err, &e) {
			end.Error = e.Message
		}
		if len(end.Error) > maxWorkerLine/4 {
			end.Error = end.Error[:maxWorkerLine/4] + "…"
		}
	}
	return report(end)
}

// workerSync opens the user base and runs the sync, reporting through
// report.
func workerSync(ctx context.Context, in io.Reader, w WorkerRequest, open func(context.Context) (*Runner, func(), error),
	report func(workerEvent) error) (roster.RunStatus, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		var c workerCancel
		if err := json.NewDecoder(in).Decode(&c); err != nil {
			cancel(roster.Errorf(roster.EUNAVAILABLE, "the roster serve process that started this sync stopped"))
			return
		}
		if c.Cancel == "" {
			cancel(context.Canceled)
			return
		}
		cancel(roster.Errorf(roster.ECONFLICT, "%s", c.Cancel))
	}()

	r, closeStore, err := open(ctx)
	if err != nil {
		return "", err
	}
	defer closeStore()
	src, err := r.Store.Source(ctx, w.SourceID)
	if err != nil {
		return "", err
	}
	var last time.Time
	var lastPhase string
	return r.syncStored(sqlstore.WithFence(ctx, w.SourceID, w.Holder), src, roster.SyncRequest{Incremental: w.Incremental, ApproveRemovals: w.ApproveRemovals}, Hooks{
		Started: func(id int64) { report(workerEvent{RunID: id}) },
		Progress: func(p reconcile.Progress) {
			// A few reports a second are plenty for a progress bar.
			if now := time.Now(); now.Sub(last) >= 250*time.Millisecond || p.Phase != lastPhase {
				last, lastPhase = now, p.Phase
				report(workerEvent{Phase: p.Phase, Seen: p.Seen, Elapsed: p.Elapsed.Seconds()})
			}
		},
	})
}
