package runner

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster"
)

// scheduler starts the syncs that sources plan: full syncs on a cron
// schedule and incremental ones every interval. It looks every tick
// (every, 30 s by default); see tick for what happens when another sync
// is running.
type scheduler struct {
	sources func(context.Context) ([]*roster.Source, error)
	start   func(sourceID int64, req roster.SyncRequest) (int64, error)
	log     *slog.Logger
	every   time.Duration // how often it looks (tick)
	// sweep, when set, runs at every tick before anything starts, with
	// the sources that tick read: it closes the runs of nodes that died
	// (see AbandonRunning and freeDeadLeases).
	sweep func(context.Context, []*roster.Source)

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

const DefaultScheduleCheck = 30 * time.Second

func newScheduler(sources func(context.Context) ([]*roster.Source, error), start func(int64, roster.SyncRequest) (int64, error), log *slog.Logger) *scheduler {
	return &scheduler{sources: sources, start: start, log: log, every: DefaultScheduleCheck, plan: map[planKey]planned{}}
}

// run ticks until ctx ends.
func (s *scheduler) run(ctx context.Context, now func() time.Time) {
	t := time.NewTicker(s.every)
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
// for a time before it was seen), and starts the syncs that are due:
// full ones first, since only they find leavers. A full sync refused
// because another sync holds the source or the data folder stays due and
// is tried again at the next tick; a refused incremental one is skipped.
// Syncs are started without the plan's lock held: starting one connects
// and signs in, and the console reads the plan meanwhile.
func (s *scheduler) tick(ctx context.Context, now time.Time) {
	sources, err := s.sources(ctx)
	if err != nil {
		s.log.Warn("the scheduler cannot read the sources", "err", err)
		return
	}
	if s.sweep != nil {
		s.sweep(ctx, sources)
	}
	type due struct {
		key  planKey
		src  *roster.Source
		spec string
		slot time.Time // what came due: nodes sharing a database run it once
		next time.Time
	}
	var fulls, incs []due
	s.mu.Lock()
	seen := map[planKey]bool{}
	for _, src := range sources {
		if src.FullSchedule != "" {
			if c, err := roster.ParseCron(src.FullSchedule); err != nil {
				s.log.Warn("a source's schedule is not valid; it is not scheduled", "source", src.Name, "err", roster.ErrorMessage(err))
			} else {
				key := planKey{src.ID, false}
				seen[key] = true
				if slot, ok := s.isDue(key, src.FullSchedule, now, c.Next); ok {
					fulls = append(fulls, due{key, src, src.FullSchedule, slot, c.Next(now)})
				}
			}
		}
		if every := src.IncrementalInterval; every >= roster.MinIncrementalInterval {
			key := planKey{src.ID, true}
			seen[key] = true
			after := func(t time.Time) time.Time { return t.Add(every) }
			if _, ok := s.isDue(key, every.String(), now, after); ok {
				// Each node plans from when it started; a run of any
				// node in the last interval (less a tick, for the
				// nodes' different phases) fills this one.
				slot := now.Add(-every).Add(min(s.every, every/2))
				incs = append(incs, due{key, src, every.String(), slot, after(now)})
			}
		}
	}
	for key := range s.plan {
		if !seen[key] {
			delete(s.plan, key) // the source is gone or unscheduled
		}
	}
	s.mu.Unlock()

	startedFull := map[int64]bool{}
	for _, d := range fulls {
		err := s.launch(d.src, d.spec, roster.SyncRequest{Slot: d.slot})
		if doneWith(err) {
			s.replan(d.key, d.spec, d.next)
		}
		startedFull[d.src.ID] = err == nil
	}
	for _, d := range incs {
		s.replan(d.key, d.spec, d.next)
		if !startedFull[d.src.ID] { // a full sync started: it reads everything anyway
			s.launch(d.src, d.spec, roster.SyncRequest{Incremental: true, Slot: d.slot})
		}
	}
}

// doneWith reports whether a scheduled full sync's slot is over after
// trying to start it: it started, a node already ran it, or it can never
// start (the source is gone or invalid). Otherwise (another sync holds
// the source, the database did not answer) it stays due and is tried
// again at the next look, so that a nightly full sync is not lost.
func doneWith(err error) bool {
	switch {
	case err == nil, errors.Is(err, errSlotTaken):
		return true
	}
	code := roster.ErrorCode(err)
	return code == roster.ENOTFOUND || code == roster.EINVALID
}

// isDue plans key when it is new or its schedule changed, and reports
// whether its time has come, and the time it was planned for. Called
// with s.mu held.
func (s *scheduler) isDue(key planKey, spec string, now time.Time, next func(time.Time) time.Time) (time.Time, bool) {
	p, ok := s.plan[key]
	if !ok || p.spec != spec {
		s.plan[key] = planned{spec: spec, next: next(now)}
		return time.Time{}, false
	}
	return p.next, !now.Before(p.next)
}

func (s *scheduler) replan(key planKey, spec string, next time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.plan[key]; ok && p.spec == spec {
		s.plan[key] = planned{spec: spec, next: next}
	}
}

// launch starts one scheduled sync and logs the outcome.
func (s *scheduler) launch(src *roster.Source, spec string, req roster.SyncRequest) error {
	kind := "full"
	if req.Incremental {
		kind = "incremental"
	}
	runID, err := s.start(src.ID, req)
	switch {
	case errors.Is(err, errSlotTaken):
		s.log.Info("a scheduled sync is not needed: a run of its kind started in its slot, on this node or another", "source", src.Name, "kind", kind, "reason", err.Error())
	case roster.ErrorCode(err) == roster.ECONFLICT && !req.Incremental:
		s.log.Info("a scheduled full sync waits: another sync is running; it is tried again at the next check", "source", src.Name, "check_every", s.every.String(), "reason", roster.ErrorMessage(err))
	case roster.ErrorCode(err) == roster.ECONFLICT:
		s.log.Info("a scheduled incremental sync was skipped: another sync is running", "source", src.Name, "reason", roster.ErrorMessage(err))
	case err != nil && !req.Incremental && !doneWith(err):
		s.log.Warn("a scheduled full sync did not start; it is tried again at the next check", "source", src.Name, "err", roster.ErrorMessage(err))
	case err != nil:
		s.log.Warn("a scheduled sync did not start", "source", src.Name, "kind", kind, "err", roster.ErrorMessage(err))
	default:
		s.log.Info("scheduled sync started", "source", src.Name, "kind", kind, "run", runID, "schedule", spec)
	}
	return err
}

// next is when a source's next scheduled syncs are planned.
func (s *scheduler) next(sourceID int64) roster.NextRuns {
	s.mu.Lock()
	defer s.mu.Unlock()
	return roster.NextRuns{Full: s.plan[planKey{sourceID, false}].next, Incremental: s.plan[planKey{sourceID, true}].next}
}
