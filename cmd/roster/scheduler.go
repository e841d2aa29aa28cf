package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster"
)

// scheduler starts the full syncs that sources plan with a cron
// schedule. It looks every tick (30 s); a sync already running when one
// is due is skipped, not queued, and the next one is planned.
type scheduler struct {
	sources func(context.Context) ([]*roster.Source, error)
	start   func(sourceID int64, approve bool) (int64, error)
	log     *slog.Logger

	mu   sync.Mutex
	plan map[int64]planned // by source ID
}

type planned struct {
	spec string
	next time.Time
}

const schedulerTick = 30 * time.Second

func newScheduler(sources func(context.Context) ([]*roster.Source, error), start func(int64, bool) (int64, error), log *slog.Logger) *scheduler {
	return &scheduler{sources: sources, start: start, log: log, plan: map[int64]planned{}}
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
// for a time before it was seen), and starts the syncs that are due.
func (s *scheduler) tick(ctx context.Context, now time.Time) {
	sources, err := s.sources(ctx)
	if err != nil {
		s.log.Warn("the scheduler cannot read the sources", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int64]bool{}
	for _, src := range sources {
		if src.FullSchedule == "" {
			continue
		}
		seen[src.ID] = true
		c, err := roster.ParseCron(src.FullSchedule)
		if err != nil {
			s.log.Warn("a source's schedule is not valid; it is not scheduled", "source", src.Name, "err", roster.ErrorMessage(err))
			continue
		}
		p, ok := s.plan[src.ID]
		if !ok || p.spec != src.FullSchedule {
			s.plan[src.ID] = planned{spec: src.FullSchedule, next: c.Next(now)}
			continue
		}
		if now.Before(p.next) {
			continue
		}
		if runID, err := s.start(src.ID, false); err != nil {
			s.log.Warn("a scheduled sync did not start", "source", src.Name, "err", roster.ErrorMessage(err))
		} else {
			s.log.Info("scheduled sync started", "source", src.Name, "run", runID, "schedule", src.FullSchedule)
		}
		s.plan[src.ID] = planned{spec: src.FullSchedule, next: c.Next(now)}
	}
	for id := range s.plan {
		if !seen[id] {
			delete(s.plan, id) // the source is gone or unscheduled
		}
	}
}

// next is when a source's next scheduled sync is planned; zero if none.
func (s *scheduler) next(sourceID int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plan[sourceID].next
}
