package roster

import (
	"context"
	"fmt"
	"time"
)

// A Lockout counts the failures of one credential, or of one kind of
// guess from one place, and says until when roster refuses it. The same
// record serves the stored lockouts (an admin's console password, a
// user's print code or password at terminals), which every node shares
// and an admin can see and clear, and the guessing budgets that each
// node keeps in memory (a terminal's unknown cards, all terminals'
// wrong codes).
type Lockout struct {
	// Key names what is counted, e.g. "admin:alice" or "code:user:42".
	Key string
	// Subject is who or what it is, for people: an admin's name, a user's
	// login, a terminal's token name.
	Subject string
	// Failures counts the failures since FirstFailure, within the
	// policy's window, since the last lock ended.
	Failures     int
	FirstFailure time.Time
	LastFailure  time.Time
	// Trips counts the locks since the last success or clear; each lock
	// lasts twice the one before, up to the policy's ceiling.
	Trips int
	// Until is the end of the current lock; zero when none was set.
	Until time.Time
}

// Wait is how long the lock still holds at now; 0 when it does not.
func (l Lockout) Wait(now time.Time) time.Duration {
	if now.Before(l.Until) {
		return l.Until.Sub(now)
	}
	return 0
}

// Locked reports whether the lock holds at now.
func (l Lockout) Locked(now time.Time) bool { return l.Wait(now) > 0 }

// LockoutPolicy says how many failures lock, and for how long. Locks
// escalate: the first lasts Lock, each next one twice as long, up to
// MaxLock. Escalation is forgotten after Forget without a failure, so a
// busy terminal where people mistype now and then starts afresh each day
// while a steady guesser stays at the ceiling.
type LockoutPolicy struct {
	Failures int           // failures within Window that lock
	Window   time.Duration // how long a failure counts towards a lock
	Lock     time.Duration // the first lock
	MaxLock  time.Duration // the longest lock
	Forget   time.Duration // quiet time after which escalation restarts
}

// Validate refuses a policy that would never lock, or never unlock.
func (p LockoutPolicy) Validate() error {
	if p.Failures < 1 || p.Window <= 0 || p.Lock <= 0 || p.MaxLock < p.Lock || p.Forget < p.MaxLock {
		return Errorf(EINVALID, "a lockout needs at least 1 failure, a window and a first lock above 0, a ceiling at least the first lock, and a forget time at least the ceiling (got %+v)", p)
	}
	return nil
}

// Fail returns l after one more failure at now. A failure during a lock
// counts too, so a guesser who keeps going while locked only lengthens
// the next lock; callers usually refuse before guessing, so it rarely
// happens.
func (p LockoutPolicy) Fail(l Lockout, now time.Time) Lockout {
	if !l.LastFailure.IsZero() && now.Sub(l.LastFailure) >= p.Forget {
		l.Trips = 0
	}
	if l.Failures > 0 && now.Sub(l.FirstFailure) >= p.Window {
		l.Failures = 0
	}
	if l.Failures == 0 {
		l.FirstFailure = now
	}
	l.Failures++
	l.LastFailure = now
	if l.Failures >= p.Failures {
		l.Trips++
		l.Until = now.Add(p.LockFor(l.Trips))
		l.Failures = 0
		l.FirstFailure = time.Time{}
	}
	return l
}

// LockFor is how long the trips-th lock in a row lasts.
func (p LockoutPolicy) LockFor(trips int) time.Duration {
	d := p.Lock
	for i := 1; i < trips && d < p.MaxLock; i++ {
		d *= 2
	}
	return min(d, p.MaxLock)
}

// Stale reports whether l no longer matters at now: not locked, its
// failures out of the window, and its escalation forgotten.
func (p LockoutPolicy) Stale(l Lockout, now time.Time) bool {
	return !l.Locked(now) && now.Sub(l.LastFailure) >= p.Forget
}

// PerDay is the most failures the policy lets through in a day, at the
// ceiling: the long-run rate of a guesser who never stops. The first
// day gives a few more, while the locks are still short.
func (p LockoutPolicy) PerDay() float64 {
	return float64(p.Failures) * float64(24*time.Hour) / float64(p.MaxLock)
}

// Lockout keys: what a stored lockout counts.
func AdminLockoutKey(name string) string { return "admin:" + NormalizeLogin(name) }
func CodeLockoutKey(userID int64) string { return fmt.Sprintf("code:user:%d", userID) }
func PasswordLockoutKey(userID int64) string {
	return fmt.Sprintf("password:user:%d", userID)
}

// LockoutStore keeps the lockouts every node shares. A failure is
// counted in one transaction, so nodes that count at once lose none.
type LockoutStore interface {
	// Lockout returns key's record, or one with only Key set when there
	// is none.
	Lockout(ctx context.Context, key string) (Lockout, error)
	// FailLockout counts one failure of key at now under p, and returns
	// the record as it now is. subject is stored for people to read.
	FailLockout(ctx context.Context, key, subject string, p LockoutPolicy, now time.Time) (Lockout, error)
	// ClearLockout forgets key's failures and lock: on a success, or by
	// an admin. It reports whether there was anything to forget.
	ClearLockout(ctx context.Context, key string) (bool, error)
	// Lockouts lists the records that have failures or a lock, newest
	// failure first, at most limit.
	Lockouts(ctx context.Context, limit int) ([]Lockout, error)
}
