package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

var lockPolicy = roster.LockoutPolicy{Failures: 3, Window: 5 * time.Minute, Lock: 15 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}

// testLockouts: failures count to a lock that escalates, a clear forgets
// them, and the list shows what is counted.
func testLockouts(t *testing.T, o Opener) {
	db, _, _ := open(t, o)
	ctx := context.Background()
	l, err := db.Lockout(ctx, "admin:alice")
	if err != nil || l.Key != "admin:alice" || l.Failures != 0 || l.Locked(t0) {
		t.Fatalf("an unknown key: %+v, %v", l, err)
	}
	for i := 0; i < 3; i++ {
		if l, err = db.FailLockout(ctx, "admin:alice", "alice", lockPolicy, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Wait(t0.Add(2 * time.Second)); got != 15*time.Minute || l.Trips != 1 {
		t.Fatalf("three failures: %+v (wait %v)", l, got)
	}
	back, err := db.Lockout(ctx, "admin:alice")
	if err != nil || !back.Until.Equal(l.Until) || back.Trips != 1 || back.Subject != "alice" || !back.LastFailure.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("read back %+v, %v; want %+v", back, err, l)
	}
	// The next lock is twice as long.
	after := l.Until
	for i := 0; i < 3; i++ {
		l, _ = db.FailLockout(ctx, "admin:alice", "alice", lockPolicy, after)
	}
	if got := l.Wait(after); got != 30*time.Minute || l.Trips != 2 {
		t.Fatalf("second lock: %+v (wait %v)", l, got)
	}
	if _, err := db.FailLockout(ctx, "code:user:7", "bob", lockPolicy, t0); err != nil {
		t.Fatal(err)
	}
	ls, err := db.Lockouts(ctx, 10)
	if err != nil || len(ls) != 2 || ls[0].Key != "admin:alice" || ls[1].Key != "code:user:7" || ls[1].Failures != 1 {
		t.Fatalf("Lockouts: %+v, %v", ls, err)
	}
	if ok, err := db.ClearLockout(ctx, "admin:alice"); !ok || err != nil {
		t.Fatalf("clear: %v, %v", ok, err)
	}
	if ok, err := db.ClearLockout(ctx, "admin:alice"); ok || err != nil {
		t.Fatalf("clear again: %v, %v; want false, nil", ok, err)
	}
	if l, _ := db.Lockout(ctx, "admin:alice"); l.Locked(after) || l.Trips != 0 {
		t.Fatalf("after the clear: %+v", l)
	}
}

// testLockoutRace: nodes failing one key at once each count, so a lock
// cannot be dodged by spreading guesses over nodes.
func testLockoutRace(t *testing.T, o Opener) {
	db, _, _ := open(t, o)
	ctx := context.Background()
	p := roster.LockoutPolicy{Failures: 1000, Window: time.Hour, Lock: time.Minute, MaxLock: time.Minute, Forget: time.Hour}
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := db.FailLockout(ctx, "password:user:1", "carol", p, t0); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if l, _ := db.Lockout(ctx, "password:user:1"); l.Failures != workers*each {
		t.Fatalf("%d failures counted at once; want %d", l.Failures, workers*each)
	}
}
