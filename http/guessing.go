package http

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster"
)

// Guessing budgets. A terminal token is a key to the user base: whoever
// holds one can try card numbers, print codes and passwords. Each kind
// of wrong guess has a budget per terminal and one shared by all
// terminals, so more tokens do not buy more guesses; each budget locks
// for longer each time it is spent (5 minutes, doubling to a ceiling),
// so a guesser who never stops is held to the ceiling's rate. A user's
// own code and password have stored lockouts on top (see userCode and
// userPassword), which every node shares and an admin can clear.
//
// The README's Security section gives the arithmetic; TestREADMEArithmetic
// keeps it in step with these figures.
var (
	// Unknown cards: a badge reader at a busy door sees some, from cards
	// not synced yet. Card numbers are not secrets (a badge can be read
	// from a pocket), so the budget stops sweeps, not careful guessing.
	cardTerminal = roster.LockoutPolicy{Failures: 20, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}
	cardAll      = roster.LockoutPolicy{Failures: 60, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}
	// Wrong print codes typed alone: each miss could have been anyone's
	// code, so this budget is what keeps codes from falling.
	codeTerminal = roster.LockoutPolicy{Failures: 10, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: 2 * time.Hour, Forget: 24 * time.Hour}
	codeAll      = roster.LockoutPolicy{Failures: 30, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: 2 * time.Hour, Forget: 24 * time.Hour}
	// Wrong passwords and wrong codes given with a login or card.
	passwordTerminal = roster.LockoutPolicy{Failures: 10, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: 2 * time.Hour, Forget: 24 * time.Hour}
	passwordAll      = roster.LockoutPolicy{Failures: 30, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: 2 * time.Hour, Forget: 24 * time.Hour}

	// One user's print code, given with the user's login or card: five
	// misses lock it at every terminal, 15 minutes doubling to a day.
	userCode = roster.LockoutPolicy{Failures: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour}
	// One user's password: three misses lock it, well before the
	// directory's own lockout (Entra DS: 5 in 2 minutes) would lock the
	// account everywhere.
	userPassword = roster.LockoutPolicy{Failures: 3, Window: 15 * time.Minute, Lock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour}

	// Console sign-in: per admin name, from any address (stored); and per
	// address, for names that are not admins'.
	adminName    = roster.LockoutPolicy{Failures: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}
	adminAddress = roster.LockoutPolicy{Failures: 5, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: time.Hour, Forget: 24 * time.Hour}
)

// budgetKeys bounds the memory of a budget whose keys a caller chooses
// (client addresses): a flood of new addresses cannot grow it.
const budgetKeys = 10000

// budget keeps lockouts in memory, by key, under one policy. Its size is
// bounded without failing open: when it is full, stale keys go first,
// then the unlocked key that failed longest ago; a locked key is never
// dropped, and when every key is locked a new key is refused until one
// lock ends.
type budget struct {
	mu     sync.Mutex
	policy roster.LockoutPolicy
	max    int
	m      map[string]roster.Lockout
}

func newBudget(p roster.LockoutPolicy, max int) *budget {
	if err := p.Validate(); err != nil {
		panic(err) // the policies are constants of this file
	}
	return &budget{policy: p, max: max, m: map[string]roster.Lockout{}}
}

// wait is how long key must wait at now; 0 when it may try.
func (b *budget) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l, ok := b.m[key]; ok {
		return l.Wait(now)
	}
	if len(b.m) < b.max {
		return 0
	}
	return b.makeRoom(now)
}

// makeRoom drops one key to let a new one in, and returns 0; or, when
// every key is locked, how long until the first lock ends.
func (b *budget) makeRoom(now time.Time) time.Duration {
	var oldest string
	var soonest time.Time
	for k, l := range b.m {
		if b.policy.Stale(l, now) {
			delete(b.m, k)
			return 0
		}
		if !l.Locked(now) && (oldest == "" || l.LastFailure.Before(b.m[oldest].LastFailure)) {
			oldest = k
		}
		if l.Locked(now) && (soonest.IsZero() || l.Until.Before(soonest)) {
			soonest = l.Until
		}
	}
	if oldest != "" {
		delete(b.m, oldest)
		return 0
	}
	return soonest.Sub(now)
}

// fail counts a failure of key at now, and returns its record.
func (b *budget) fail(key, subject string, now time.Time) roster.Lockout {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.m[key]
	if !ok {
		if len(b.m) >= b.max && b.makeRoom(now) > 0 {
			// Full of locked keys: the caller was refused by wait, and
			// counting more would only grow the map.
			return roster.Lockout{Key: key, Subject: subject}
		}
		l = roster.Lockout{Key: key, Subject: subject}
	}
	l = b.policy.Fail(l, now)
	b.m[key] = l
	return l
}

// recent reports whether key failed within the policy's window.
func (b *budget) recent(key string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.m[key]
	return ok && (l.Locked(now) || now.Sub(l.LastFailure) < b.policy.Window)
}

// clear forgets key, and reports whether it was counted.
func (b *budget) clear(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, had := b.m[key]
	delete(b.m, key)
	return had
}

// locked lists the keys locked at now.
func (b *budget) locked(now time.Time) []roster.Lockout {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []roster.Lockout
	for _, l := range b.m {
		if l.Locked(now) {
			out = append(out, l)
		}
	}
	return out
}

// guessKind is one kind of wrong guess at terminals, with its two
// budgets: per terminal, and all terminals together.
type guessKind struct {
	reason      string // as in roster_terminal_refusals_total
	what        string // for people: "unknown cards"
	perTerminal *budget
	all         *budget
}

// allKey is the one key of a budget shared by all terminals.
const allKey = "all terminals"

func newGuessKind(reason, what string, terminal, all roster.LockoutPolicy) *guessKind {
	return &guessKind{reason: reason, what: what, perTerminal: newBudget(terminal, budgetKeys), all: newBudget(all, 1)}
}

// wait is how long terminal must wait before its next guess of this
// kind. When all terminals together have spent the budget, only the
// terminals that missed within the window wait: a terminal whose people
// give good cards and codes goes on serving them while the guesser's
// terminals are stopped.
func (g *guessKind) wait(terminal string, now time.Time) (time.Duration, string) {
	if w := g.perTerminal.wait(terminal, now); w > 0 {
		return w, "this terminal"
	}
	if w := g.all.wait(allKey, now); w > 0 && g.perTerminal.recent(terminal, now) {
		return w, "all terminals together"
	}
	return 0, ""
}

// fail counts a wrong guess from terminal, and reports the budgets it
// spent just now: the terminal's, all terminals', or neither.
func (g *guessKind) fail(terminal, name string, now time.Time) (tripped []roster.Lockout) {
	before := g.perTerminal.wait(terminal, now)
	if l := g.perTerminal.fail(terminal, name, now); before == 0 && l.Locked(now) {
		tripped = append(tripped, l)
	}
	before = g.all.wait(allKey, now)
	if l := g.all.fail(allKey, allKey, now); before == 0 && l.Locked(now) {
		tripped = append(tripped, l)
	}
	return tripped
}

// refusals counts the terminal answers that refused someone, by reason,
// for roster_terminal_refusals_total; and keeps the latest bursts (a
// budget spent) for the console's warning.
type refusals struct {
	counts sync.Map // reason → *atomic.Int64
	mu     sync.Mutex
	bursts []burst
}

// A burst is a guessing budget spent: a terminal, or all terminals, got
// too many wrong guesses of one kind.
type burst struct {
	At       time.Time
	What     string // "unknown cards"
	Terminal string // the token's name, or allKey
	Until    time.Time
}

const keepBursts = 20

func (r *refusals) add(reason string) {
	c, _ := r.counts.LoadOrStore(reason, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

func (r *refusals) count(reason string) int64 {
	if c, ok := r.counts.Load(reason); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

func (r *refusals) burst(b burst) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bursts = append(r.bursts, b)
	if len(r.bursts) > keepBursts {
		r.bursts = r.bursts[len(r.bursts)-keepBursts:]
	}
}

// since returns the bursts at or after t, oldest first.
func (r *refusals) since(t time.Time) []burst {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []burst
	for _, b := range r.bursts {
		if !b.At.Before(t) {
			out = append(out, b)
		}
	}
	return out
}

// refusalReasons are the reasons roster_terminal_refusals_total counts,
// all of them shown from the start so that a rate can be taken.
var refusalReasons = []string{"unknown_card", "wrong_code", "wrong_password", "locked", "rate_limited", "disabled", "expired_card", "shared_code"}

// addressKey is the part of a client address that a rate limit counts:
// the address itself for IPv4, its /64 for IPv6, since one host commonly
// holds a whole /64 and could otherwise take a fresh address per try.
func addressKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		return ip
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// DefaultRefusalFloor is the least time a refusal of a named person
// takes at a terminal. An unknown login is found unknown in a millisecond
// and a wrong password takes a bind; holding every refusal to the same
// floor, and to the slowest recent bind above it, hides which it was.
const DefaultRefusalFloor = 250 * time.Millisecond

// checkTimes keeps the durations of the latest password checks.
type checkTimes struct {
	mu sync.Mutex
	d  [32]time.Duration
	n  int
}

func (c *checkTimes) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d[c.n%len(c.d)] = d
	c.n++
}

// slowest is the longest of the latest checks.
func (c *checkTimes) slowest() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m time.Duration
	for _, d := range c.d {
		m = max(m, d)
	}
	return m
}

// holdRefusal waits until a refusal that began at started has taken the
// floor, or a quarter more than the slowest recent check, whichever is
// longer; or until the client goes away. A bind slower than that still
// shows, but only when the directory itself is slow, for everyone.
func (s *Server) holdRefusal(r *http.Request, started time.Time) {
	floor := s.RefusalFloor
	if floor == 0 {
		floor = DefaultRefusalFloor
	}
	hold := max(floor, s.checks.slowest()*5/4) - time.Since(started)
	if hold <= 0 {
		return
	}
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
