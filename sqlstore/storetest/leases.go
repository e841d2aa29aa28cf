package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

func testLeases(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	other, _ := db.SourceID(ctx, "other")
	now := t0
	db.Now = func() time.Time { return now }
	const ttl = time.Minute

	a, err := db.AcquireLease(ctx, corp, "node-a", ttl)
	if err != nil || a.Holder != "node-a" || !a.Expires.Equal(t0.Add(ttl)) || !a.AcquiredAt.Equal(t0) {
		t.Fatalf("AcquireLease(a) = %+v, %v", a, err)
	}
	_, err = db.AcquireLease(ctx, corp, "node-b", ttl)
	wantCode(t, err, roster.ECONFLICT)
	if !strings.Contains(err.Error(), "node-a") || !strings.Contains(err.Error(), "the source corp") {
		t.Errorf("the refusal does not name the holder and the source: %v", err)
	}
	if h, until, err := db.LeaseHolder(ctx, corp); err != nil || h != "node-a" || !until.Equal(t0.Add(ttl)) {
		t.Errorf("LeaseHolder = %q %v %v", h, until, err)
	}
	if _, err := db.AcquireLease(ctx, other, "node-b", ttl); err != nil {
		t.Fatalf("a lease of another source: %v", err)
	}

	// The holder renews; the lease still dates from its first take.
	now = t0.Add(50 * time.Second)
	if until, err := db.RenewLease(ctx, corp, "node-a", ttl); err != nil || !until.Equal(now.Add(ttl)) {
		t.Fatalf("RenewLease = %v, %v", until, err)
	}
	if again, err := db.AcquireLease(ctx, corp, "node-a", ttl); err != nil || !again.AcquiredAt.Equal(t0) {
		t.Fatalf("re-acquire by the holder = %+v, %v", again, err)
	}
	_, err = db.RenewLease(ctx, corp, "node-b", ttl)
	wantCode(t, err, roster.ECONFLICT)
	if msg := roster.ErrorMessage(err); !strings.Contains(msg, "the source corp") {
		t.Errorf("a lost lease does not name the source: %s", msg)
	}

	// node-a dies in a run: its lease runs out, node-b takes over and
	// closes the abandoned run; node-a cannot renew any more.
	run := &roster.Run{SourceID: corp, Mode: roster.RunFull}
	if err := db.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	now = now.Add(ttl - time.Second)
	if _, err := db.AcquireLease(ctx, corp, "node-b", ttl); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("taken a second before it ran out: %v", err)
	}
	if n, err := db.AbandonRunning(ctx); err != nil || n != 0 {
		t.Fatalf("AbandonRunning under a live lease marked %d, %v", n, err)
	}
	now = now.Add(time.Second)
	b, err := db.AcquireLease(ctx, corp, "node-b", ttl)
	if err != nil || b.Holder != "node-b" || b.Abandoned != 1 || !b.AcquiredAt.Equal(now) {
		t.Fatalf("take-over = %+v, %v", b, err)
	}
	if r, err := db.Run(ctx, run.ID); err != nil || r.Status != roster.RunFailed || !strings.Contains(r.Error, "lease") || r.FinishedAt.IsZero() {
		t.Fatalf("the abandoned run: %+v, %v", r, err)
	}
	_, err = db.RenewLease(ctx, corp, "node-a", ttl)
	wantCode(t, err, roster.ECONFLICT)

	// The fence: node-a's writes, still under way, are refused and write
	// nothing; node-b's go through.
	fencedA := sqlstore.WithFence(ctx, corp, "node-a")
	_, err = db.Apply(fencedA, corp, []roster.Change{{Kind: roster.Create, Login: "late", User: NewUser("late")}})
	wantCode(t, err, roster.ECONFLICT)
	if msg := roster.ErrorMessage(err); !strings.Contains(msg, "node-a lost its lease of the source corp") {
		t.Errorf("a fenced write's refusal: %s", msg)
	}
	if !errors.Is(err, roster.ErrLeaseLost) {
		t.Errorf("a fenced write's refusal does not say the lease is lost (roster.ErrLeaseLost), which the engine stops on: %v", err)
	}
	wantCode(t, db.SaveCursor(fencedA, corp, roster.Cursor{Kind: roster.CursorUSN, Server: "dc", Value: "1", Scope: "s"}), roster.ECONFLICT)
	late := &roster.Run{ID: run.ID, SourceID: corp, Mode: roster.RunFull, Status: roster.RunSucceeded}
	wantCode(t, db.FinishRun(fencedA, late), roster.ECONFLICT)
	if u := Stored(t, db, corp, "anchor-late"); u != nil {
		t.Fatalf("a fenced-off write created %+v", u)
	}
	if r, _ := db.Run(ctx, run.ID); r.Status != roster.RunFailed {
		t.Fatalf("the dead node's late finish overwrote the run: %s", r.Status)
	}
	if _, err := db.Apply(sqlstore.WithFence(ctx, corp, "node-b"), corp, []roster.Change{{Kind: roster.Create, Login: "late", User: NewUser("late")}}); err != nil {
		t.Fatalf("the holder's fenced write: %v", err)
	}

	// Release: a stranger's release does nothing, the holder's frees it.
	if err := db.ReleaseLease(ctx, corp, "node-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcquireLease(ctx, corp, "node-c", ttl); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("a stranger's release freed the lease: %v", err)
	}
	if err := db.ReleaseLease(ctx, corp, "node-b"); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.LeaseHolder(ctx, corp)
	wantCode(t, err, roster.ENOTFOUND)
	if c, err := db.AcquireLease(ctx, corp, "node-c", ttl); err != nil || c.Abandoned != 0 {
		t.Fatalf("after release = %+v, %v", c, err)
	}
}

// testLeaseRace: of many holders that try at once, exactly one wins.
func testLeaseRace(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	db.Now = time.Now
	const n = 8
	var wg sync.WaitGroup
	wins := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := "node-" + string(rune('a'+i))
			if _, err := db.AcquireLease(ctx, corp, holder, time.Minute); err == nil {
				wins <- holder
			} else if roster.ErrorCode(err) != roster.ECONFLICT {
				t.Errorf("%s: %v", holder, err)
			}
		}()
	}
	wg.Wait()
	close(wins)
	var got []string
	for w := range wins {
		got = append(got, w)
	}
	if len(got) != 1 {
		t.Fatalf("winners %v, want exactly one", got)
	}
}

func testLastRunStart(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	if at, err := db.LastRunStart(ctx, corp, roster.RunFull); err != nil || !at.IsZero() {
		t.Fatalf("no runs: %v, %v", at, err)
	}
	for i, m := range []roster.RunMode{roster.RunFull, roster.RunIncremental, roster.RunPreview} {
		r := &roster.Run{SourceID: corp, Mode: m, StartedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := db.StartRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Status = roster.RunSucceeded
		if err := db.FinishRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if at, _ := db.LastRunStart(ctx, corp, roster.RunFull); !at.Equal(t0) {
		t.Errorf("last full = %v, want %v", at, t0)
	}
	if at, _ := db.LastRunStart(ctx, corp, roster.RunFull, roster.RunIncremental); !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("last full or incremental = %v", at)
	}
	// A full run its node abandoned does not fill the slot.
	dead := &roster.Run{SourceID: corp, Mode: roster.RunFull, StartedAt: t0.Add(5 * time.Minute)}
	if err := db.StartRun(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if n, err := db.AbandonRunning(ctx); err != nil || n != 1 {
		t.Fatalf("AbandonRunning = %d, %v", n, err)
	}
	if at, _ := db.LastRunStart(ctx, corp, roster.RunFull); !at.Equal(t0) {
		t.Errorf("last full = %v, want %v: the abandoned run counted", at, t0)
	}
}

// testTakeOverLease: a holder proved dead loses its lease at once, long
// before it runs out, and its running run is closed with a reason that
// names the process; a lease that no longer names the dead holder is
// acquired by the usual rule.
func testTakeOverLease(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	now := t0
	db.Now = func() time.Time { return now }
	const ttl = time.Minute
	dead := roster.Process{Host: "print-1", PID: 4242, Nonce: "a1b2c3d4", Boot: "8c5f0e7a9b1d4c3e8f2a6b7c9d0e1f23", PIDNS: "4026531836", Start: 99}.String()

	if _, err := db.AcquireLease(ctx, corp, dead, ttl); err != nil {
		t.Fatal(err)
	}
	run := &roster.Run{SourceID: corp, Mode: roster.RunFull, StartedAt: t0}
	if err := db.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(10 * time.Second) // the lease has 50 s to go
	l, err := db.TakeOverLease(ctx, corp, dead, "node-b", ttl)
	if err != nil || l.Holder != "node-b" || l.TakenFrom != dead || l.Abandoned != 1 || !l.AcquiredAt.Equal(now) || !l.Expires.Equal(now.Add(ttl)) {
		t.Fatalf("TakeOverLease = %+v, %v", l, err)
	}
	r, err := db.Run(ctx, run.ID)
	if err != nil || r.Status != roster.RunFailed || !r.FinishedAt.Equal(now) {
		t.Fatalf("the dead process's run: %+v, %v", r, err)
	}
	for _, want := range []string{"PID 4242 on print-1", "killed", "removed nobody", "unless it had read the directory to the end"} {
		if !strings.Contains(r.Error, want) {
			t.Errorf("the dead process's run says %q, without %q", r.Error, want)
		}
	}
	if h, _, err := db.LeaseHolder(ctx, corp); err != nil || h != "node-b" {
		t.Errorf("LeaseHolder = %q, %v", h, err)
	}
	// Its run does not fill its schedule slot: another run does the work.
	if at, err := db.LastRunStart(ctx, corp, roster.RunFull); err != nil || !at.IsZero() {
		t.Errorf("LastRunStart = %v, %v: the dead process's run counted", at, err)
	}
	// The dead holder cannot renew, and its fenced writes are refused.
	_, err = db.RenewLease(ctx, corp, dead, ttl)
	wantCode(t, err, roster.ECONFLICT)
	_, err = db.Apply(sqlstore.WithFence(ctx, corp, dead), corp, []roster.Change{{Kind: roster.Create, Login: "late", User: NewUser("late")}})
	wantCode(t, err, roster.ECONFLICT)

	// The lease no longer names the dead holder: the usual rule. A live
	// holder keeps it; its own take-over renews it, and closes nothing.
	_, err = db.TakeOverLease(ctx, corp, dead, "node-c", ttl)
	wantCode(t, err, roster.ECONFLICT)
	if !strings.Contains(err.Error(), "node-b") {
		t.Errorf("the refusal does not name the holder: %v", err)
	}
	second := &roster.Run{SourceID: corp, Mode: roster.RunFull, StartedAt: now}
	if err := db.StartRun(ctx, second); err != nil {
		t.Fatal(err)
	}
	taken := now
	now = now.Add(time.Second)
	if l, err := db.TakeOverLease(ctx, corp, "node-b", "node-b", ttl); err != nil || l.TakenFrom != "" || l.Abandoned != 0 || !l.AcquiredAt.Equal(taken) {
		t.Fatalf("a holder taking over from itself = %+v, %v", l, err)
	}
	if r, _ := db.Run(ctx, second.ID); r.Status != roster.RunRunning {
		t.Fatalf("a holder taking over from itself closed its own run: %s", r.Status)
	}
	// Released, the lease is free: a take-over from a holder long gone
	// just acquires it.
	if err := db.ReleaseLease(ctx, corp, "node-b"); err != nil {
		t.Fatal(err)
	}
	if l, err := db.TakeOverLease(ctx, corp, dead, "node-c", ttl); err != nil || l.Holder != "node-c" || l.TakenFrom != "" {
		t.Fatalf("a take-over of a free lease = %+v, %v", l, err)
	}
	if r, _ := db.Run(ctx, second.ID); r.Status != roster.RunFailed || strings.Contains(r.Error, "PID") {
		t.Errorf("a run left running when the lease was free is closed as abandoned: %+v", r)
	}
}

// testTakeOverRace: of many processes that take over one dead holder's
// lease at once, exactly one wins, and the dead holder's run is closed
// once.
func testTakeOverRace(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	db.Now = time.Now
	const dead = "print-1/4242/a1b2c3d4"
	if _, err := db.AcquireLease(ctx, corp, dead, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.StartRun(ctx, &roster.Run{SourceID: corp, Mode: roster.RunFull}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	wins := make(chan *roster.Lease, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := "node-" + string(rune('a'+i))
			if l, err := db.TakeOverLease(ctx, corp, dead, holder, time.Minute); err == nil {
				wins <- l
			} else if roster.ErrorCode(err) != roster.ECONFLICT {
				t.Errorf("%s: %v", holder, err)
			}
		}()
	}
	wg.Wait()
	close(wins)
	var got []*roster.Lease
	for l := range wins {
		got = append(got, l)
	}
	if len(got) != 1 || got[0].TakenFrom != dead || got[0].Abandoned != 1 {
		var names []string
		for _, l := range got {
			names = append(names, fmt.Sprintf("%s (from %q, %d runs closed)", l.Holder, l.TakenFrom, l.Abandoned))
		}
		t.Fatalf("winners %v, want exactly one, which took over from %s and closed its run", names, dead)
	}
	if h, _, err := db.LeaseHolder(ctx, corp); err != nil || h != got[0].Holder {
		t.Fatalf("the lease is %q (%v), the winner %s", h, err, got[0].Holder)
	}
}
