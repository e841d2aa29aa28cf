package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// stallingDir answers the first page of users, then waits for ctx, as a
// directory does that keeps a run alive without finishing it.
type stallingDir struct{ memDir }

func (d *stallingDir) Users(ctx context.Context, page func([]roster.Record) error, _ func(roster.EntryError) error) error {
	if err := page(d.recs[:1]); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Minute): // bounded: the run timeout below is far shorter
		return nil
	}
}

func TestTheRunTimeoutFailsARunAndRemovesNobody(t *testing.T) {
	f := newFixture(5)
	f.mustRun(t, Options{})
	f.src.RunTimeout = 50 * time.Millisecond
	e := &Engine{Store: f.store, Now: time.Now, HashCode: func(c string) string { return "h:" + c }}
	res, err := e.Run(context.Background(), f.src, 1, &stallingDir{memDir{recs: people(5)}}, Options{})
	if err == nil {
		t.Fatal("Run() = nil, want the run timeout")
	}
	if res.Run.Status != roster.RunFailed || !strings.Contains(res.Run.Error, "did not finish within 50ms, the run timeout") {
		t.Fatalf("run %s: %q, want failed, naming the run timeout", res.Run.Status, res.Run.Error)
	}
	if res.Run.Disabled+res.Run.Deleted != 0 {
		t.Fatalf("a timed-out run removed users: %s", counts(res.Run))
	}
	for _, u := range f.store.users {
		if u.Disabled {
			t.Fatalf("%s was disabled by a run that timed out", u.Login)
		}
	}
}
