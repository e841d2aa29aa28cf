package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// defaultLeaseTTL is how long a node's hold on a source lasts without
// renewal: when a node dies mid-sync, another takes over at most this
// long after, at its scheduler's next look (-schedule-check, 30 s).
const defaultLeaseTTL = time.Minute

// nodeID names this process in leases: host, PID, and a random part, so a
// restarted process never passes for its former self, whose runs another
// node must close.
func nodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// heldLease is a lease this process keeps alive in the background.
type heldLease struct {
	*roster.Lease
	stop func()
}

// holdLease takes the lease of sourceID for holder, then renews it every
// third of ttl until release. When a renewal finds the lease taken by
// another node, or cannot reach the database until the lease would have
// run out, it calls lost once: the caller's sync must stop, since another
// node may now run it. Errors: ECONFLICT when another node holds it.
func holdLease(ctx context.Context, db *sqlstore.DB, log *slog.Logger, sourceID int64, holder string, ttl time.Duration, lost func(error)) (*heldLease, error) {
	l, err := db.AcquireLease(ctx, sourceID, holder, ttl)
	if err != nil {
		return nil, err
	}
	if l.Abandoned > 0 {
		log.Warn("runs of a roster node that stopped mid-sync are marked failed", "source_id", sourceID, "runs", l.Abandoned)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		expires := l.Expires
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			// The renewal outlives the sync's own context: a cancelled
			// sync still records its end under the lease.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ttl/3)
			until, err := db.RenewLease(rctx, sourceID, holder, ttl)
			cancel()
			switch {
			case err == nil:
				expires = until
			case roster.ErrorCode(err) == roster.ECONFLICT:
				lost(err)
				return
			case !time.Now().Before(expires):
				lost(fmt.Errorf("the lease of source %d ran out while the database could not be reached: %w", sourceID, err))
				return
			default:
				log.Warn("cannot renew the sync lease; trying again", "source_id", sourceID, "err", err)
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := db.ReleaseLease(rctx, sourceID, holder); err != nil {
				log.Warn("cannot release the sync lease; it runs out by itself", "source_id", sourceID, "err", err)
			}
		})
	}
	return &heldLease{Lease: l, stop: stop}, nil
}
