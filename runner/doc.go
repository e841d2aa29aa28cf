// Package runner is roster's sync runtime: everything around the engine
// that makes a sync safe to run for real. Runner.Sync is the one way a
// sync runs, whether the command line, roster serve, a sync worker, a
// preview or the schedule asked for it: it connects, records a failed
// connection as a failed run, notes the directory certificate's expiry,
// and runs the engine (package reconcile) with progress.
//
// Around it:
//   - Claim holds a source for one sync: the data folder's lock
//     (package datadir) and the source's lease in the user base, renewed
//     in the background, whose fence stops every write once it is lost;
//   - Service is what roster serve offers the console and the API: test
//     a connection, preview, start, follow and cancel syncs, write back,
//     and check a password at a terminal;
//   - Scheduler starts the syncs that sources plan;
//   - a sync worker (worker.go) runs a serve's sync in a child process at
//     a lower CPU priority, under the parent's claim.
//
// The package knows the directory (ldap), the engine (reconcile) and the
// user base (sqlstore); it knows nothing of HTTP or of flags.
package runner
