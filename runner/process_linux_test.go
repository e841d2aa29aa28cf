package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/sqlite"
)

// child starts a process that waits, and returns it and its lease holder.
func child(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	_, start, err := procState(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("the child's start time: %v", err)
	}
	p := Here()
	p.PID, p.Nonce, p.Start = cmd.Process.Pid, "0badc0de", start
	return cmd, p.String()
}

func TestProvedDead(t *testing.T) {
	if !Here().Located() {
		t.Skipf("this machine does not say where its PIDs live: %+v", Here())
	}
	me, ok := roster.ParseProcess(NodeID())
	if !ok || me.PID != os.Getpid() || !me.SamePIDs(Here()) {
		t.Fatalf("NodeID() = %+v, %v", me, ok)
	}

	t.Run("a live process is not dead", func(t *testing.T) {
		_, holder := child(t)
		if provedDead(holder) || provedDead(NodeID()) {
			t.Fatal("a live process proved dead")
		}
	})
	t.Run("a process that ended and was reaped is dead", func(t *testing.T) {
		cmd, holder := child(t)
		cmd.Process.Kill()
		cmd.Wait()
		if !provedDead(holder) {
			t.Fatal("a killed process is not proved dead")
		}
	})
	t.Run("a killed process not yet reaped (a zombie) is dead", func(t *testing.T) {
		cmd, holder := child(t)
		cmd.Process.Signal(syscall.SIGKILL)
		deadline := time.Now().Add(labenv.Budget(10 * time.Second))
		for time.Now().Before(deadline) {
			if state, _, err := procState(cmd.Process.Pid); err != nil || state == 'Z' {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !provedDead(holder) {
			t.Fatal("a zombie is not proved dead")
		}
	})
	t.Run("a PID given to a later process is dead", func(t *testing.T) {
		p := me
		p.Start-- // the holder had this process's PID, and started before it
		if !provedDead(p.String()) {
			t.Fatal("a reused PID hides a dead holder")
		}
		p.Start += 2 // it started after this process: impossible, so unsure
		if provedDead(p.String()) {
			t.Fatal("a holder younger than the PID's process proved dead")
		}
	})
	t.Run("uncertain holders are never dead", func(t *testing.T) {
		cmd, holder := child(t)
		cmd.Process.Kill()
		cmd.Wait()
		p, _ := roster.ParseProcess(holder)
		for name, change := range map[string]func(*roster.Process){
			"an older version's holder": func(p *roster.Process) { p.Boot, p.PIDNS, p.Start = "", "", 0 },
			"another host":              func(p *roster.Process) { p.Host += "-other" },
			"another boot":              func(p *roster.Process) { p.Boot = strings.Repeat("0", 32) },
			"another PID namespace":     func(p *roster.Process) { p.PIDNS += "1" },
		} {
			q := p
			change(&q)
			if provedDead(q.String()) {
				t.Errorf("%s proved dead", name)
			}
		}
		for _, h := range []string{"", "node-a", "h/1", "h/0/x/" + Here().Boot + ":" + Here().PIDNS + ":5"} {
			if provedDead(h) {
				t.Errorf("%q proved dead", h)
			}
		}
	})
}

// A sync on this machine takes over at once the lease of a process of
// this machine that died, and closes its run with the reason; a live
// holder, or one of another machine, keeps its lease.
func TestALeaseOfADeadProcessIsTakenOverAtOnce(t *testing.T) {
	if !Here().Located() {
		t.Skipf("this machine does not say where its PIDs live: %+v", Here())
	}
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	_, liveHolder := child(t)
	if _, err := db.AcquireLease(ctx, id, liveHolder, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := acquireLease(ctx, db, id, NodeID(), time.Minute); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("the lease of a live process was taken: %v", err)
	}
	db.ReleaseLease(ctx, id, liveHolder)

	cmd, holder := child(t)
	if _, err := db.AcquireLease(ctx, id, holder, time.Minute); err != nil {
		t.Fatal(err)
	}
	run := &roster.Run{SourceID: id, Mode: roster.RunFull, StartedAt: time.Now()}
	if err := db.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := acquireLease(ctx, db, id, NodeID(), time.Minute)
	if err != nil || l.TakenFrom != holder || l.Abandoned != 1 {
		t.Fatalf("the lease of a dead process = %+v, %v", l, err)
	}
	r, err := db.Run(ctx, run.ID)
	if err != nil || r.Status != roster.RunFailed || !strings.Contains(r.Error, "PID "+strings.Split(holder, "/")[1]+" on "+Here().Host) {
		t.Fatalf("the dead process's run: %+v, %v", r, err)
	}

	// The same dead process, had it run on another machine: its lease
	// runs out first.
	db.ReleaseLease(ctx, id, l.Holder)
	p, _ := roster.ParseProcess(holder)
	p.Host += "-other"
	if _, err := db.AcquireLease(ctx, id, p.String(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := acquireLease(ctx, db, id, NodeID(), time.Minute); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("the lease of another machine's process was taken: %v", err)
	}
}
