package main

import (
	"io"
	"log/slog"
	"strings"
)

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
