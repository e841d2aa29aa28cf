package http

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// lockoutsShown bounds the stored lockouts one answer lists.
const lockoutsShown = 500

// lockoutView is a lockout as the API shows it. Kept on this node means
// it lives in this node's memory (a guessing budget, a client address):
// other nodes keep their own, and a restart forgets it.
type lockoutView struct {
	Key          string    `json:"key"`
	Subject      string    `json:"subject"`
	Failures     int       `json:"failures"`
	LastFailure  time.Time `json:"last_failure"`
	LocksInARow  int       `json:"locks_in_a_row"`
	LockedUntil  time.Time `json:"locked_until,omitzero"`
	Locked       bool      `json:"locked"`
	KeptOnNode   bool      `json:"kept_on_node"`
	WhatItLimits string    `json:"what_it_limits"`
}

func (s *Server) view(l roster.Lockout, onNode bool) lockoutView {
	return lockoutView{Key: l.Key, Subject: l.Subject, Failures: l.Failures, LastFailure: l.LastFailure, LocksInARow: l.Trips,
		LockedUntil: l.Until, Locked: l.Locked(s.Now()), KeptOnNode: onNode, WhatItLimits: lockoutMeaning(l.Key)}
}

// lockoutMeaning says in words what a lockout key limits.
func lockoutMeaning(key string) string {
	switch {
	case strings.HasPrefix(key, "admin:"):
		return "console sign-in of this admin, from any address"
	case strings.HasPrefix(key, "code:user:"):
		return "this user's print code at terminals, given with a login or card"
	case strings.HasPrefix(key, "password:user:"):
		return "this user's password at terminals"
	case strings.HasPrefix(key, "address:"):
		return "console sign-in from this client address"
	case strings.HasPrefix(key, "budget:"):
		return "wrong guesses of one kind from a terminal, or from all terminals"
	}
	return ""
}

// memoryBudgets are this node's budgets by the name their keys carry.
func (s *Server) memoryBudgets() map[string]*budget {
	return map[string]*budget{
		"budget:" + s.cards.reason + ":terminal": s.cards.perTerminal, "budget:" + s.cards.reason + ":all": s.cards.all,
		"budget:" + s.codes.reason + ":terminal": s.codes.perTerminal, "budget:" + s.codes.reason + ":all": s.codes.all,
		"budget:" + s.secrets.reason + ":terminal": s.secrets.perTerminal, "budget:" + s.secrets.reason + ":all": s.secrets.all,
		"address": s.addresses,
	}
}

// listLockouts answers GET /api/v1/lockouts: the stored lockouts (admin
// names, users' codes and passwords), and this node's locked budgets.
func (s *Server) listLockouts(w http.ResponseWriter, r *http.Request) {
	stored, err := s.lockouts.Lockouts(r.Context(), lockoutsShown)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []lockoutView{}
	for _, l := range stored {
		out = append(out, s.view(l, false))
	}
	names := make([]string, 0, 7)
	budgets := s.memoryBudgets()
	for name := range budgets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, l := range budgets[name].locked(s.Now()) {
			l.Key = name + ":" + l.Key
			out = append(out, s.view(l, true))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lockouts": out})
}

// clearLockout answers DELETE /api/v1/lockouts/{key}: an admin lets a
// locked user, admin name, terminal or address try again at once.
func (s *Server) clearLockout(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	cleared, err := s.clearKey(r, key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !cleared {
		s.writeError(w, r, roster.Errorf(roster.ENOTFOUND, "nothing is counted under %q; GET /api/v1/lockouts lists what is", key))
		return
	}
	s.Log.Info("lockout cleared", "key", key, "by", who(r).name())
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) clearKey(r *http.Request, key string) (bool, error) {
	budgets := s.memoryBudgets()
	for name, b := range budgets {
		if rest, ok := strings.CutPrefix(key, name+":"); ok {
			return b.clear(rest), nil
		}
	}
	return s.lockouts.ClearLockout(r.Context(), key)
}

// guessingBanners warns in the console of the bursts of wrong guesses in
// the last day, and of what is locked now.
func (s *Server) guessingBanners(r *http.Request) []banner {
	var out []banner
	now := s.Now()
	for _, b := range s.refusals.since(now.Add(-24 * time.Hour)) {
		who := "the terminal " + strings.TrimPrefix(b.Terminal, "token ")
		if b.Terminal == allKey {
			who = "all terminals together"
		}
		out = append(out, banner{"warning", fmt.Sprintf("At %s, %s sent too many %s; they wait until %s. Someone may be trying numbers: check the terminals, and revoke a token that should not be in use (Settings, API tokens).",
			b.At.Local().Format("2006-01-02 15:04"), who, b.What, b.Until.Local().Format("15:04"))})
	}
	stored, err := s.lockouts.Lockouts(r.Context(), lockoutsShown)
	if err != nil {
		return out
	}
	locked := 0
	for _, l := range stored {
		if l.Locked(now) {
			locked++
		}
	}
	if locked > 0 {
		out = append(out, banner{"warning", fmt.Sprintf("%d sign-ins are locked after wrong tries (users' codes or passwords at terminals, or admin names): GET /api/v1/lockouts lists them, and `roster lockouts` on the server lists and clears them.", locked)})
	}
	return out
}
