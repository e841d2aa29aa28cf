//go:build !linux

package runner

import (
	"os"
	"syscall"
)

// workerExecutable is the program a sync worker runs: this one.
func workerExecutable() (string, error) { return os.Executable() }

// workerProcAttr: elsewhere than on Linux, a sync worker notices its
// parent's end when its stdin closes.
func workerProcAttr() *syscall.SysProcAttr { return nil }

// LowerPriority: elsewhere than on Linux, the sync keeps the server's
// priority.
func LowerPriority(level Priority) error { return nil }
