package http

import (
	"fmt"
	"testing"
	"time"
)

var budgetT0 = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

// A flood of new keys cannot unlock a locked key, and the budget never
// holds more than its bound: when every key is locked, new keys are
// refused rather than let through.
func TestBudgetFloodCannotUnlock(t *testing.T) {
	b := newBudget(adminAddress, 100)
	now := budgetT0
	for i := 0; i < adminAddress.Failures; i++ {
		b.fail("attacker", "attacker", now)
	}
	if b.wait("attacker", now) == 0 {
		t.Fatal("the attacker's address is not locked")
	}
	// 20,000 fresh addresses, each failing as often as it may.
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		for j := 0; j < adminAddress.Failures && b.wait(k, now) == 0; j++ {
			b.fail(k, k, now)
		}
		if len(b.m) > 100 {
			t.Fatalf("the budget holds %d keys, above its bound of 100", len(b.m))
		}
	}
	if b.wait("attacker", now) == 0 {
		t.Fatal("a flood of new addresses unlocked the attacker's address")
	}
	// The map is full of locked keys: a new key waits too, until the
	// first lock ends.
	if w := b.wait("198.51.100.7", now); w <= 0 || w > adminAddress.Lock {
		t.Fatalf("a new key with the budget full of locks waits %v; want a wait up to %v", w, adminAddress.Lock)
	}
	// When the locks end, new keys come in again.
	later := now.Add(adminAddress.Lock)
	if w := b.wait("198.51.100.7", later); w != 0 {
		t.Fatalf("after the locks ended a new key waits %v", w)
	}
}

// Unlocked keys make room for new ones, oldest failure first; the
// locked ones stay.
func TestBudgetEvictsTheOldestUnlockedKey(t *testing.T) {
	b := newBudget(adminAddress, 3)
	now := budgetT0
	for i := 0; i < adminAddress.Failures; i++ {
		b.fail("locked", "locked", now)
	}
	b.fail("old", "old", now.Add(time.Second))
	b.fail("newer", "newer", now.Add(2*time.Second))
	b.fail("newest", "newest", now.Add(3*time.Second))
	if _, ok := b.m["old"]; ok || len(b.m) != 3 {
		t.Fatalf("after a fourth key: %v", b.m)
	}
	if b.wait("locked", now.Add(3*time.Second)) == 0 {
		t.Fatal("the locked key was dropped")
	}
}

// When all terminals together have spent a budget, the terminals that
// missed wait, and one that did not goes on.
func TestGuessKindAllTerminals(t *testing.T) {
	g := newGuessKind("wrong_code", "wrong print codes", codeTerminal, codeAll)
	now := budgetT0
	guesses := 0
	for term := 0; term < 20; term++ {
		k := fmt.Sprintf("token:%d", term)
		for i := 0; i < 100; i++ {
			if w, _ := g.wait(k, now); w > 0 {
				break
			}
			g.fail(k, k, now)
			guesses++
		}
	}
	if max := codeAll.Failures + 20; guesses > max {
		t.Fatalf("20 terminals made %d wrong guesses in one window; all terminals together may make %d (and one more each)", guesses, max)
	}
	if w, whose := g.wait("token:3", now); w == 0 || whose == "" {
		t.Fatalf("a terminal that guessed is not stopped: %v %q", w, whose)
	}
	if w, _ := g.wait("token:99", now); w != 0 {
		t.Fatalf("a terminal that never missed waits %v", w)
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:192.0.2.1":     "::ffff:192.0.2.1",
		"not an address":       "not an address",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
