package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/rosterhq/roster/runner"
	"github.com/rosterhq/roster/userbase"
)

// collectLess makes the garbage collector run a fifth as often (GOGC 400),
// under a fixed soft memory limit, for roster serve: requests allocate
// short-lived values, and fewer collections shorten the terminals' tail.
// GOGC and GOMEMLIMIT, when set, win. It returns what puts the former
// settings back.
func collectLess(a *app, limit int64) (restore func()) {
	if a.getenv("GOGC") != "" || a.getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc, mem := debug.SetGCPercent(400), debug.SetMemoryLimit(limit)
	return func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(mem) }
}

// memoryBudget returns a sync process's memory budget, started (see
// runner.MemoryBudget), and what puts the former settings back; a nil
// budget when GOGC or GOMEMLIMIT is set, which then win.
// The page cache of place's connections comes off the heap's share.
func memoryBudget(a *app, place userbase.Place) (*runner.MemoryBudget, func()) {
	if a.getenv("GOGC") != "" || a.getenv("GOMEMLIMIT") != "" {
		return nil, func() {}
	}
	b := runner.DefaultMemoryBudget(place.PageCacheBytes())
	return b, b.Start()
}

// syncCPUs returns the CPU policy of a process that only syncs
// (runner.CPUs), or nil when GOMAXPROCS in the environment says how many
// CPUs the process runs on.
func syncCPUs(a *app) *runner.CPUs {
	if a.getenv("GOMAXPROCS") != "" {
		return nil
	}
	return &runner.CPUs{}
}

// newLogger returns roster's structured logger: text lines on stderr, at
// the level ROSTER_LOG_LEVEL names (debug, info, warn, error; default info).
// Secrets are roster.Secret values, which log as a mask.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
