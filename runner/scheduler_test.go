package runner

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func TestSchedulerStartsDueSyncsOnce(t *testing.T) {
	sources := []*roster.Source{
		{ID: 1, Name: "nightly", FullSchedule: "0 2 * * *"},
		{ID: 2, Name: "manual"},
		{ID: 3, Name: "quarter-hourly", FullSchedule: "*/15 * * * *"},
	}
	var started []int64
	busy := map[int64]bool{}
	s := newScheduler(func(context.Context) ([]*roster.Source, error) { return sources, nil },
		func(id int64, _ roster.SyncRequest) (int64, error) {
			if busy[id] {
				return 0, roster.Errorf(roster.ECONFLICT, "busy")
			}
			started = append(started, id)
			return 100 + id, nil
		}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	at := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }

	s.tick(ctx, at(20, 47)) // first sight: plans, starts nothing
	if len(started) != 0 || !s.next(1).Full.Equal(time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)) || !s.next(3).Full.Equal(at(21, 0)) || !s.next(2).Full.IsZero() {
		t.Fatalf("after the first tick: started %v, next %v / %v / %v", started, s.next(1).Full, s.next(3).Full, s.next(2).Full)
	}
	s.tick(ctx, at(20, 59))
	if len(started) != 0 {
		t.Fatalf("started %v before the time", started)
	}
	s.tick(ctx, at(21, 0))
	s.tick(ctx, at(21, 0)) // a second tick in the same minute starts nothing more
	if len(started) != 1 || started[0] != 3 || !s.next(3).Full.Equal(at(21, 15)) {
		t.Fatalf("at 21:00: started %v, next %v", started, s.next(3).Full)
	}
	busy[3] = true
	s.tick(ctx, at(21, 30)) // due, but another sync runs: it stays due
	if len(started) != 1 || !s.next(3).Full.Equal(at(21, 15)) {
		t.Fatalf("a busy source: started %v, next %v", started, s.next(3).Full)
	}
	busy[3] = false
	s.tick(ctx, at(21, 31)) // the other sync ended: it starts, 1 minute late
	if len(started) != 2 || started[1] != 3 || !s.next(3).Full.Equal(at(21, 45)) {
		t.Fatalf("after the busy spell: started %v, next %v", started, s.next(3).Full)
	}
	sources[2].FullSchedule = "0 6 * * *" // changed: planned from now, not run at once
	s.tick(ctx, at(21, 32))
	if len(started) != 2 || !s.next(3).Full.Equal(time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("a changed schedule: started %v, next %v", started, s.next(3).Full)
	}
	sources = sources[:1]
	s.tick(ctx, at(21, 33))
	if !s.next(3).Full.IsZero() {
		t.Fatal("a removed source is still planned")
	}
}

func TestSchedulerRunsIncrementalSyncsEveryIntervalAndLetsAFullOneWin(t *testing.T) {
	sources := []*roster.Source{{ID: 1, Name: "corp", FullSchedule: "0 2 * * *", IncrementalInterval: 5 * time.Minute}}
	var started []roster.SyncRequest
	s := newScheduler(func(context.Context) ([]*roster.Source, error) { return sources, nil },
		func(_ int64, req roster.SyncRequest) (int64, error) {
			started = append(started, req)
			return int64(len(started)), nil
		}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	at := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }

	s.tick(ctx, at(1, 50))
	if n := s.next(1); len(started) != 0 || !n.Incremental.Equal(at(1, 55)) || !n.Full.Equal(at(2, 0)) {
		t.Fatalf("first sight: started %v, next %+v", started, n)
	}
	s.tick(ctx, at(1, 55))
	if len(started) != 1 || !started[0].Incremental || !s.next(1).Incremental.Equal(at(2, 0)) {
		t.Fatalf("at 01:55: started %+v, next %+v", started, s.next(1))
	}
	s.tick(ctx, at(2, 0)) // both due: the full sync runs, the incremental one waits
	if len(started) != 2 || started[1].Incremental || !s.next(1).Incremental.Equal(at(2, 5)) {
		t.Fatalf("at 02:00: started %+v, next %+v", started, s.next(1))
	}
	// Each request names its slot, so that nodes sharing a database run
	// it once: the full one its cron time; the incremental one the start
	// of its interval, less a check, before which a run does not count.
	if !started[1].Slot.Equal(at(2, 0)) {
		t.Errorf("the full run's slot is %v, want 02:00", started[1].Slot)
	}
	if want := at(1, 50).Add(30 * time.Second); !started[0].Slot.Equal(want) {
		t.Errorf("the incremental run's slot is %v, want %v", started[0].Slot, want)
	}
	sources[0].IncrementalInterval = 0
	s.tick(ctx, at(2, 6))
	if len(started) != 2 || !s.next(1).Incremental.IsZero() {
		t.Fatalf("interval removed: started %+v, next %+v", started, s.next(1))
	}
}
