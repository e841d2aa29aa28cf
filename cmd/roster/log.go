package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
)

// syncMemoryLimit is the soft memory limit of a sync process.
const syncMemoryLimit = 128 << 20

// collectLess makes the garbage collector run a fifth as often (GOGC 400),
// under a soft memory limit. A sync allocates many short-lived entries:
// this saves a third of its CPU, and the limit keeps the peak near it
// whatever the directory's size. GOGC and GOMEMLIMIT, when set, win. It
// returns what puts the former settings back.
func collectLess(a *app, limit int64) (restore func()) {
	if a.getenv("GOGC") != "" || a.getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc, mem := debug.SetGCPercent(400), debug.SetMemoryLimit(limit)
	return func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(mem) }
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
