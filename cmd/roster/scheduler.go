package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster"
)

// scheduler starts the syncs that sources plan: full syncs on a cron
// schedule and incremental ones every interval. It looks every tick
// (30 s); a sync already running when one is due is skipped, not queued,
// and the next one is planned.
type scheduler struct {
	sources func(context.Context) ([]*roster.Source, error)
	start   func(sourceID int64, req roster.SyncRequest) (int64, error)
	log     *slog.Logger

	mu   sync.Mutex
	plan map[planKey]planned
}

type planKey struct {
	source      int64
	incremental bool
}

// planned is the next run of one kind; spec is the schedule it was
// planned from, so that a changed schedule is planned afresh.
type planned struct {
	spec string
	next time.Time
}

const schedulerTick = 30 * time.Second

func newScheduler(sources func(context.Context) ([]*roster.Source, error), start func(int64, roster.SyncRequest) (int64, error), log *slog.Logger) *scheduler {
	return &scheduler{sources: sources, start: start, log: log, plan: map[planKey]planned{}}
}

// run ticks until ctx ends.
func (s *scheduler) run(ctx context.Context, now func() time.Time) {
	t := time.NewTicker(schedulerTick)
	defer t.Stop()
	s.tick(ctx, now())
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.tick(ctx, now())
		}
	}
}

// tick plans new and changed schedules from now (a schedule never fires
// for a time before it was seen), and starts the syncs that are due. A
// full sync due in the same tick as an incremental one wins: it reads
// everything anyway.
func (s *scheduler) tick(ctx context.Context, now time.Time) {
	sources, err := s.sources(ctx)
	if err != nil {
		s.log.Warn("the scheduler cannot read the sources", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[planKey]bool{}
	for _, src := range sources {
		fullStarted := false
		if src.FullSchedule != "" {
			if c, err := roster.ParseCron(src.FullSchedule); err != nil {
				s.log.Warn("a source's schedule is not valid; it is not scheduled", "source", src.Name, "err", roster.ErrorMessage(err))
			} else {
				key := planKey{src.ID, false}
				seen[key] = true
				fullStarted = s.due(key, src, src.FullSchedule, now, c.Next, roster.SyncRequest{})
			}
		}
		if every := src.IncrementalInterval; every >= roster.MinIncrementalInterval {
			key := planKey{src.ID, true}
			seen[key] = true
			after := func(t time.Time) time.Time { return t.Add(every) }
			if fullStarted {
				s.plan[key] = planned{spec: every.String(), next: after(now)}
			} else {
				s.due(key, src, every.String(), now, after, roster.SyncRequest{Incremental: true})
			}
		}
	}
	for key := range s.plan {
		if !seen[key] {
			delete(s.plan, key) // the source is gone or unscheduled
		}
	}
}

// due plans key, or starts its sync when its time has come, and reports
// whether a sync started.
func (s *scheduler) due(key planKey, src *roster.Source, spec string, now time.Time, next func(time.Time) time.Time, req roster.SyncRequest) bool {
	p, ok := s.plan[key]
	if !ok || p.spec != spec {
		s.plan[key] = planned{spec: spec, next: next(now)}
		return false
	}
	if now.Before(p.next) {
		return false
	}
	s.plan[key] = planned{spec: spec, next: next(now)}
	kind := "full"
	if req.Incremental {
		kind = "incremental"
	}
	runID, err := s.start(src.ID, req)
	switch {
	case roster.ErrorCode(err) == roster.ECONFLICT:
		s.log.Info("a scheduled sync was skipped: the source is syncing", "source", src.Name, "kind", kind)
	case err != nil:
		s.log.Warn("a scheduled sync did not start", "source", src.Name, "kind", kind, "err", roster.ErrorMessage(err))
	default:
		s.log.Info("scheduled sync started", "source", src.Name, "kind", kind, "run", runID, "schedule", spec)
		return true
	}
	return false
}

// next is when a source's next scheduled syncs are planned.
func (s *scheduler) next(sourceID int64) roster.NextRuns {
	s.mu.Lock()
	defer s.mu.Unlock()
	return roster.NextRuns{Full: s.plan[planKey{sourceID, false}].next, Incremental: s.plan[planKey{sourceID, true}].next}
}
