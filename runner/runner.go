package runner

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore"
)

var (
	_ reconcile.Store        = (*sqlstore.DB)(nil)
	_ reconcile.Directory    = (*ldap.Directory)(nil)
	_ reconcile.ChangeReader = (*ldap.Directory)(nil)
)

// Runner runs syncs against one user base.
type Runner struct {
	Store *sqlstore.DB
	// Hash is the keyed hash print codes are stored under
	// (datadir.PrintCodeHasher).
	Hash func(code string) string
	Now  func() time.Time
	Log  *slog.Logger
	// Memory, when set, is the process's memory budget, raised as the
	// run sees entries; nil leaves the runtime's settings alone.
	Memory *MemoryBudget
	// CPUs, when set, narrows the process to one CPU for each run until
	// the run creates users in bulk; nil leaves GOMAXPROCS alone.
	CPUs *CPUs
}

// Hooks is what a sync reports while it runs; either may be nil. Both are
// called from the goroutine that runs the sync.
type Hooks struct {
	// Started is called once the run is recorded, with its ID: by the
	// engine, or, when the connection failed, with the failed run.
	Started func(runID int64)
	// Progress is called after each page the engine handles.
	Progress func(reconcile.Progress)
}

// Sync connects to src's directory and runs the engine on it for the
// stored source sourceID (-1, for a dry run of a source never synced,
// matches no user). It is the only caller of the engine's Run.
//
// Unless opt.DryRun:
//   - a connection that fails is recorded as a failed run, so that the
//     history shows every attempt; Hooks.Started then gets its ID;
//   - the expiry of the certificate the directory showed is recorded on
//     the source, for the console's expiry warning.
//
// ctx should carry the source's lease fence (Claim, or sqlstore.WithFence
// in a worker) for anything but a dry run.
//
// It returns the engine's result, nil when the engine never ran (the
// connection failed), and the sync's error: any error means that nobody
// was removed on the strength of a partial read.
func (r *Runner) Sync(ctx context.Context, src *roster.Source, sourceID int64, opt reconcile.Options, h Hooks) (*reconcile.Result, error) {
	for _, w := range src.Warnings() { // verification off, plain LDAP: said at every run
		r.Log.Warn(w, "source", src.Name)
	}
	start := r.Now()
	dir, err := r.open(ctx, src, sourceID, opt)
	if err != nil {
		if !opt.DryRun {
			if run := r.recordFailure(ctx, sourceID, opt.Incremental, start, err); run != nil && h.Started != nil {
				h.Started(run.ID)
			}
		}
		return nil, err
	}
	closeDir := func() {}
	if c, ok := dir.(interface{ Close() error }); ok {
		var once sync.Once
		closeDir = func() { once.Do(func() { c.Close() }) }
		defer closeDir()
	}
	progress := h.Progress
	if r.CPUs != nil {
		defer r.CPUs.start()()
	}
	if r.Memory != nil || r.CPUs != nil {
		progress = func(p reconcile.Progress) {
			if r.Memory != nil {
				r.Memory.seen(p.Seen)
			}
			if r.CPUs != nil {
				r.CPUs.created(p.Created)
			}
			if h.Progress != nil {
				h.Progress(p)
			}
		}
	}
	e := &reconcile.Engine{Store: r.Store, Now: r.Now, Log: r.Log, HashCode: r.Hash, Progress: progress}
	if h.Started != nil {
		e.Started = func(run *roster.Run) { h.Started(run.ID) }
	}
	build := func() {}
	if !opt.DryRun {
		build = r.deferIndexes(ctx, src)
	}
	res, err := e.Run(ctx, src, sourceID, dir, opt)
	// The directory is done with: its connection does not wait for the
	// build.
	closeDir()
	build()
	if res != nil {
		r.Log.Info("sync finished", "source", src.Name, "status", res.Run.Status, "seen", res.Run.Seen,
			"created", res.Run.Created, "updated", res.Run.Updated, "disabled", res.Run.Disabled, "failed", res.Run.Failed)
	}
	return res, err
}

// indexBuildLimit bounds the build of the indexes (or keys) a sync into
// an empty user base deferred: about a second for 100,000 users.
var indexBuildLimit = 10 * time.Minute

// deferIndexes readies the store for a sync that writes (DeferIndexes)
// and returns what to call once it has written: the build of the
// indexes it deferred, if any, which runs even when the sync failed or
// was cancelled, since the users it wrote stay. A store that cannot
// defer them, or fails to build them, is said in the log: the sync goes
// on, and the next open of the user base or the next sync builds what
// is missing.
func (r *Runner) deferIndexes(ctx context.Context, src *roster.Source) func() {
	dropped, err := r.Store.DeferIndexes(ctx)
	r.logSettled(src)
	if err != nil {
		r.Log.Warn("readying the user base's indexes and foreign keys for this sync failed, and the sync goes on: slower, with any index that is away read as its whole table, until the next sync or opening of the user base builds it (on PostgreSQL: another connection held the users, cards or sources table for over 2 s, or roster's role does not own them)", "source", src.Name, "error", err)
		return func() {}
	}
	if len(dropped) == 0 {
		return func() {}
	}
	r.Log.Info("the user base is empty: the sync builds some of its indexes (or foreign keys) after writing the users", "source", src.Name, "indexes", strings.Join(dropped, ", "))
	return func() {
		// Not under the sync's context: a cancelled or fenced-off sync
		// has written users all the same, and the build changes no row
		// the sync wrote (a key's Tidy deletes only cards whose user is
		// gone).
		bctx, cancel := context.WithTimeout(context.Background(), indexBuildLimit)
		defer cancel()
		start := time.Now()
		// The run's sets are garbage now: their pages go back to the
		// system before SQLite's sort takes its own.
		debug.FreeOSMemory()
		err := r.Store.BuildIndexes(bctx)
		r.logSettled(src)
		if err != nil {
			r.Log.Error("building the user base's indexes or foreign keys failed; until roster next opens the user base or syncs, lookups without an index read the whole table, and rows without a key are not checked against their parent", "source", src.Name, "error", err)
			return
		}
		r.Log.Info("indexes and foreign keys built", "source", src.Name, "took", time.Since(start).Round(time.Millisecond))
	}
}

// logSettled logs what index builds settled (sqlstore.DB.Settled): this
// sync's, or an earlier one's, or the opening of the user base's, which
// has no log of its own.
func (r *Runner) logSettled(src *roster.Source) {
	for _, note := range r.Store.Settled() {
		r.Log.Warn("while the user base's unique indexes were away, "+note, "source", src.Name)
	}
}

// open connects to src's directory: over LDAP, signed in, or, for an
// Entra ID source, through Microsoft Graph with a token in hand, so that
// a wrong credential fails here, before the engine starts, as a bind
// does. Unless opt.DryRun, the expiry of the LDAP server's certificate is
// recorded.
func (r *Runner) open(ctx context.Context, src *roster.Source, sourceID int64, opt reconcile.Options) (reconcile.Directory, error) {
	if src.Type == roster.EntraID {
		d, err := graph.Open(src)
		if err != nil {
			return nil, err
		}
		if _, err := d.Client.Token(ctx); err != nil {
			return nil, err
		}
		r.Log.Info("sync started", "source", src.Name, "graph", d.Client.GraphHost(), "dry_run", opt.DryRun, "incremental", opt.Incremental)
		return d, nil
	}
	dir, err := ldap.Dialer{Now: r.Now}.Open(ctx, src, r.Log)
	if err != nil {
		return nil, err
	}
	url, _ := src.URL()
	r.Log.Info("sync started", "source", src.Name, "url", url, "verified", dir.Conn().Verified(), "dry_run", opt.DryRun, "incremental", opt.Incremental)
	if !opt.DryRun {
		r.noteCertificate(ctx, sourceID, dir)
	}
	return dir, nil
}

// noteCertificate records the expiry of the certificate a sync saw.
func (r *Runner) noteCertificate(ctx context.Context, sourceID int64, dir *ldap.Directory) {
	if st := dir.Conn().TLS(); st != nil && len(st.PeerCertificates) > 0 {
		if err := r.Store.SetSourceCertificate(ctx, sourceID, st.PeerCertificates[0].NotAfter); err != nil {
			r.Log.Warn("recording the directory certificate's expiry failed", "source_id", sourceID, "err", err)
		}
	}
}

// recordFailure records a run that failed before the engine started (no
// connection, no sign-in), in the mode that was asked for. It returns
// nil when the run could not be recorded either.
func (r *Runner) recordFailure(ctx context.Context, sourceID int64, incremental bool, start time.Time, err error) *roster.Run {
	mode := roster.RunFull
	if incremental {
		mode = roster.RunIncremental
	}
	run := &roster.Run{SourceID: sourceID, Mode: mode, StartedAt: start}
	if r.Store.StartRun(ctx, run) != nil {
		return nil
	}
	run.Status, run.FinishedAt, run.Error = roster.RunFailed, r.Now(), roster.ErrorMessage(err)
	run.Notes = []string{"the run did not finish: nobody was disabled or deleted"}
	r.Store.FinishRun(context.WithoutCancel(ctx), run)
	return run
}

// closeCrashedRun records as failed a run whose sync process died, unless
// it recorded its end before dying.
func (r *Runner) closeCrashedRun(ctx context.Context, runID int64, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	run, err := r.Store.Run(ctx, runID)
	if err != nil {
		return err
	}
	if run.Status != roster.RunRunning {
		return nil
	}
	run.Status, run.FinishedAt, run.Error = roster.RunFailed, r.Now(), cause.Error()
	run.Notes = append(run.Notes, "the run did not finish; what it wrote until then is kept, and the next run picks up from the directory")
	return r.Store.FinishRun(ctx, run)
}

// syncStored runs a sync of the stored source src as roster serve asks
// for one, and returns the run's status: the engine's, failed when only
// the failed connection was recorded, and "" when no run was recorded.
func (r *Runner) syncStored(ctx context.Context, src *roster.Source, req roster.SyncRequest, h Hooks) (roster.RunStatus, error) {
	recorded := false
	started := h.Started
	h.Started = func(id int64) {
		recorded = true
		if started != nil {
			started(id)
		}
	}
	res, err := r.Sync(ctx, src, src.ID, reconcile.Options{ApproveRemovals: req.ApproveRemovals, Incremental: req.Incremental}, h)
	switch {
	case res != nil:
		return res.Run.Status, err
	case recorded:
		return roster.RunFailed, err
	}
	return "", err
}
