package roster

import (
	"testing"
	"time"
)

var lockT0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func TestLockoutLocksAfterFailuresWithinTheWindow(t *testing.T) {
	p := LockoutPolicy{Failures: 3, Window: 5 * time.Minute, Lock: 10 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}
	var l Lockout
	l = p.Fail(l, lockT0)
	l = p.Fail(l, lockT0.Add(time.Minute))
	if l.Locked(lockT0.Add(time.Minute)) || l.Failures != 2 {
		t.Fatalf("two failures of three: %+v", l)
	}
	// The window restarts: a failure 5 minutes after the first one starts
	// a new count.
	l = p.Fail(l, lockT0.Add(5*time.Minute))
	if l.Locked(lockT0.Add(5*time.Minute)) || l.Failures != 1 {
		t.Fatalf("a failure after the window must start a new count: %+v", l)
	}
	l = p.Fail(l, lockT0.Add(6*time.Minute))
	l = p.Fail(l, lockT0.Add(7*time.Minute))
	if got := l.Wait(lockT0.Add(7 * time.Minute)); got != 10*time.Minute {
		t.Fatalf("third failure in the window: wait %v, want 10m (%+v)", got, l)
	}
	if l.Locked(lockT0.Add(17 * time.Minute)) {
		t.Fatalf("the lock must end after 10 minutes: %+v", l)
	}
}

func TestLockoutEscalatesToTheCeilingAndForgets(t *testing.T) {
	p := LockoutPolicy{Failures: 2, Window: time.Minute, Lock: 5 * time.Minute, MaxLock: 30 * time.Minute, Forget: 24 * time.Hour}
	var l Lockout
	now := lockT0
	var locks []time.Duration
	for i := 0; i < 5; i++ {
		l = p.Fail(l, now)
		l = p.Fail(l, now)
		locks = append(locks, l.Wait(now))
		now = l.Until
	}
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i := range want {
		if locks[i] != want[i] {
			t.Fatalf("locks %v, want %v", locks, want)
		}
	}
	now = now.Add(24 * time.Hour)
	l = p.Fail(p.Fail(l, now), now)
	if got := l.Wait(now); got != 5*time.Minute || l.Trips != 1 {
		t.Fatalf("after a quiet day the lock must start at 5m again: %v, %+v", got, l)
	}
}

func TestLockoutPerDayBoundsASteadyGuesser(t *testing.T) {
	p := LockoutPolicy{Failures: 10, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: 2 * time.Hour, Forget: 24 * time.Hour}
	// A guesser who tries as soon as each lock ends, for a week, gets no
	// more than the first day's ramp plus PerDay a day.
	var l Lockout
	now, end := lockT0, lockT0.Add(7*24*time.Hour)
	guesses := 0
	for n := 0; now.Before(end) && n < 1_000_000; n++ {
		if w := l.Wait(now); w > 0 {
			now = now.Add(w)
			continue
		}
		l = p.Fail(l, now)
		guesses++
		now = now.Add(time.Second)
	}
	limit := 7*p.PerDay() + 10*float64(p.Failures) // the ramp: at most 10 shorter locks
	if float64(guesses) > limit || guesses < int(6*p.PerDay()) {
		t.Fatalf("a week of steady guessing got %d guesses; PerDay says %.0f a day (limit %.0f)", guesses, p.PerDay(), limit)
	}
}

func TestLockoutPolicyValidate(t *testing.T) {
	good := LockoutPolicy{Failures: 1, Window: time.Second, Lock: time.Second, MaxLock: time.Second, Forget: time.Second}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []LockoutPolicy{
		{Failures: 0, Window: 1, Lock: 1, MaxLock: 1, Forget: 1},
		{Failures: 1, Window: 1, Lock: 2, MaxLock: 1, Forget: 2},
		{Failures: 1, Window: 1, Lock: 1, MaxLock: 3, Forget: 2},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v: want an error", p)
		}
	}
}
