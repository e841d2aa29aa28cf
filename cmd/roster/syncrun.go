package main

import (
	"context"
	"log/slog"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore"
)

// syncHooks is what a sync started by roster serve reports while it runs.
// Both are called from the goroutine that runs the sync.
type syncHooks struct {
	started  func(runID int64) // once, when the run is recorded
	progress func(reconcile.Progress)
}

// syncHere runs one sync of src inside this process: roster serve
// -sync-in-process, and the work of a sync worker.
func (s *syncService) syncHere(ctx context.Context, src *roster.Source, req roster.SyncRequest, h syncHooks) (roster.RunStatus, error) {
	return syncSource(ctx, s.a, s.db, s.hash, src, req, h)
}

// syncSource connects to src's directory and runs the engine on it, with
// ctx's lease fence. A connection that fails is recorded as a failed run
// too, so that the history shows every attempt. It returns the run's
// status ("" when no run could be recorded) and the sync's error.
func syncSource(ctx context.Context, a *app, db *sqlstore.DB, hash func(string) string, src *roster.Source, req roster.SyncRequest, h syncHooks) (roster.RunStatus, error) {
	start := a.now()
	dir, err := ldap.Dialer{Now: a.now}.Open(ctx, src, a.log)
	if err != nil {
		run := recordFailure(ctx, a, db, src.ID, req.Incremental, start, err)
		if run == nil {
			return "", err
		}
		h.started(run.ID)
		return run.Status, err
	}
	defer dir.Close()
	noteCertificate(ctx, a.log, db, src.ID, dir)
	e := &reconcile.Engine{Store: db, Now: a.now, Log: a.log, HashCode: hash,
		Started:  func(r *roster.Run) { h.started(r.ID) },
		Progress: h.progress}
	res, err := e.Run(ctx, src, src.ID, dir, reconcile.Options{ApproveRemovals: req.ApproveRemovals, Incremental: req.Incremental})
	if res == nil {
		return "", err
	}
	return res.Run.Status, err
}

// noteCertificate records the expiry of the certificate a sync saw.
func noteCertificate(ctx context.Context, log *slog.Logger, db *sqlstore.DB, sourceID int64, dir *ldap.Directory) {
	if st := dir.Conn().TLS(); st != nil && len(st.PeerCertificates) > 0 {
		if err := db.SetSourceCertificate(ctx, sourceID, st.PeerCertificates[0].NotAfter); err != nil {
			log.Warn("recording the directory certificate's expiry failed", "err", err)
		}
	}
}
