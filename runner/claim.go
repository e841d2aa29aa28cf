package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore"
)

// Claim is a source held for one sync: the data folder's lock, so that
// one sync at a time works on the folder's users, and the source's lease
// in the user base, so that one node at a time syncs the source across
// every node sharing it. Release gives both back.
type Claim struct {
	// Ctx is the caller's context under the lease's fence: the store
	// refuses every write made under it once the lease is lost, and it
	// is cancelled, with the reason, when a renewal finds the lease gone.
	Ctx context.Context

	lease   *heldLease
	release func()
}

// Release lets the lease and the lock go. It may be called more than
// once.
func (c *Claim) Release() {
	c.lease.stop()
	c.release()
}

// ClaimSource takes the data folder dir's lock (when dir is not empty),
// then the lease of the source (sourceID, named name) for holder, renewed
// every third of ttl until Release.
//
// Errors: ECONFLICT wrapping datadir.ErrLocked when another sync holds
// the folder; ECONFLICT when another node holds the source's lease (a
// dead process of this machine is taken over at once: see holdLease);
// the user base's error otherwise.
func ClaimSource(ctx context.Context, db *sqlstore.DB, log *slog.Logger, dir string, sourceID int64, name, holder string, ttl time.Duration) (*Claim, error) {
	release := func() {}
	if dir != "" {
		var err error
		if release, err = datadir.Lock(dir); err != nil {
			return nil, err
		}
	}
	lease, err := holdLease(ctx, db, log, sourceID, name, holder, ttl)
	if err != nil {
		release()
		return nil, err
	}
	var once bool
	return &Claim{Ctx: lease.ctx, lease: lease, release: func() {
		if !once {
			once = true
			release()
		}
	}}, nil
}

// SyncAlone syncs src as one command does: by its name, the source's row
// made on first use (a dry run makes nothing: a source never synced is
// -1, which matches no user), and, except in a dry run, under the
// source's lease, which roster serve's nodes take too, so that a sync
// from a command line never runs beside another. The data folder's lock
// is the caller's to hold, for as many sources as it syncs.
//
// It returns what Sync returns.
func (r *Runner) SyncAlone(ctx context.Context, src *roster.Source, opt reconcile.Options, h Hooks) (*reconcile.Result, error) {
	var sourceID int64
	var err error
	if opt.DryRun {
		if sourceID, err = r.Store.LookupSourceID(ctx, src.Name); roster.ErrorCode(err) == roster.ENOTFOUND {
			sourceID, err = -1, nil
		}
	} else {
		sourceID, err = r.Store.SourceID(ctx, src.Name)
	}
	if err != nil {
		return nil, err
	}
	if !opt.DryRun {
		claim, err := ClaimSource(ctx, r.Store, r.Log, "", sourceID, src.Name, NodeID(), DefaultLeaseTTL)
		if err != nil {
			return nil, err
		}
		defer claim.Release()
		ctx = claim.Ctx
	}
	return r.Sync(ctx, src, sourceID, opt, h)
}
