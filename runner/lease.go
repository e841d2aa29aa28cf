package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// DefaultLeaseTTL is how long a node's hold on a source lasts without
// renewal: when a node dies mid-sync, another takes over at most this
// long after, at its scheduler's next look (-schedule-check, 30 s).
const DefaultLeaseTTL = time.Minute

// NodeID names this process in leases (roster.Process): host, PID, and a
// random part, so a restarted process never passes for its former self,
// whose runs another node must close; then, on Linux, the boot, the PID
// namespace and the process's start time, so that a process of the same
// machine can prove it dead once it is (provedDead).
func NodeID() string {
	p := Here()
	b := make([]byte, 4)
	rand.Read(b)
	p.Nonce = hex.EncodeToString(b)
	return p.String()
}

// hostName is this host's name, as leases show it.
func hostName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "unknown-host"
	}
	return host
}

// acquireLease takes the lease of sourceID for holder (AcquireLease).
// When another holder has it, and that holder is a process of this
// machine that has provably ended (provedDead: a kill -9, a crash), the
// lease is taken over at once rather than when it runs out, and the dead
// process's runs are marked failed (TakeOverLease). A holder on another
// machine, or one that cannot be proved dead, keeps its lease until it
// runs out.
func acquireLease(ctx context.Context, db *sqlstore.DB, sourceID int64, holder string, ttl time.Duration) (*roster.Lease, error) {
	l, err := db.AcquireLease(ctx, sourceID, holder, ttl)
	if roster.ErrorCode(err) != roster.ECONFLICT {
		return l, err
	}
	other, _, herr := db.LeaseHolder(ctx, sourceID)
	if herr != nil || !provedDead(other) {
		return nil, err
	}
	return db.TakeOverLease(ctx, sourceID, other, holder, ttl)
}

// freeDeadLeases takes back, and at once releases, the lease of every
// source of srcs (those the scheduler read at this look) whose holder is
// a roster process of this machine that died (a kill -9, a crash):
// taking it over closes the dead process's runs with
// the reason, so a restarted server shows them failed at its first look,
// not when the next sync of the source comes. It holds each such lease
// under a holder of its own for that moment, so that a sync this node
// starts meanwhile is never released by it. Failures are left to the
// next look.
func freeDeadLeases(ctx context.Context, db *sqlstore.DB, log *slog.Logger, srcs []*roster.Source, ttl time.Duration) {
	sweeper := NodeID()
	for _, src := range srcs {
		other, _, err := db.LeaseHolder(ctx, src.ID)
		if err != nil || !provedDead(other) {
			continue
		}
		l, err := db.TakeOverLease(ctx, src.ID, other, sweeper, ttl)
		if err != nil || l.TakenFrom == "" {
			if err == nil {
				db.ReleaseLease(context.WithoutCancel(ctx), src.ID, sweeper)
			}
			continue
		}
		db.ReleaseLease(context.WithoutCancel(ctx), src.ID, sweeper)
		log.Warn("the roster process that held the source has ended (killed, or crashed); its runs are marked failed",
			"source", src.Name, "holder", l.TakenFrom, "runs", l.Abandoned)
	}
}

// heldLease is a lease this process keeps alive in the background.
type heldLease struct {
	*roster.Lease
	// ctx is the caller's context, fenced by the lease (the store
	// refuses every write made under it once the lease is no longer
	// held), and cancelled, with the reason, when the lease is lost.
	ctx  context.Context
	stop func()
}

// holdLease takes the lease of the source (sourceID, named name) for
// holder, then renews it every third of ttl until stop. When a renewal
// finds the lease gone, or no renewal succeeded for two thirds of ttl,
// it logs it and cancels the lease's ctx: the caller's sync must stop,
// since another node may run it soon. Beyond that, the caller's writes
// carry the lease's fence, so that none lands after the lease is lost.
// Errors: ECONFLICT when another node holds it (see acquireLease).
func holdLease(ctx context.Context, db *sqlstore.DB, log *slog.Logger, sourceID int64, name, holder string, ttl time.Duration) (*heldLease, error) {
	l, err := acquireLease(ctx, db, sourceID, holder, ttl)
	if err != nil {
		return nil, err
	}
	if l.TakenFrom != "" {
		log.Warn("the roster process that held the source has ended (killed, or crashed); its lease is taken over at once, and its runs are marked failed",
			"source", name, "holder", l.TakenFrom, "runs", l.Abandoned)
	} else if l.Abandoned > 0 {
		log.Warn("runs of a roster node that stopped mid-sync are marked failed", "source", name, "runs", l.Abandoned)
	}
	lctx, cancel := context.WithCancelCause(ctx)
	lost := func(err error) {
		log.Error("this node lost its hold on the source; the sync stops", "source", name, "err", roster.ErrorMessage(err))
		cancel(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The lease is measured by the database's clock; this node
		// measures its own silence by its monotonic clock: with no good
		// renewal for two thirds of ttl, it stops before the lease can
		// run out under it.
		lastOK := time.Now()
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
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ttl/4)
			_, err := db.RenewLease(rctx, sourceID, holder, ttl)
			cancel()
			switch {
			case err == nil:
				lastOK = time.Now()
			case roster.ErrorCode(err) == roster.ECONFLICT:
				lost(err)
				return
			case time.Since(lastOK) >= ttl*2/3:
				lost(roster.Errorf(roster.EUNAVAILABLE, "the lease of the source %s could not be renewed for %s (the user base did not answer: %s); this sync stops",
					name, time.Since(lastOK).Round(time.Second), roster.ErrorMessage(err)))
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
	return &heldLease{Lease: l, ctx: sqlstore.WithFence(lctx, sourceID, holder), stop: func() { stop(); cancel(nil) }}, nil
}
