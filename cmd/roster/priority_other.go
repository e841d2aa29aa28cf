//go:build !linux

package main

import (
	"os"
	"syscall"
)

// workerExecutable is the program a sync worker runs: this one.
func workerExecutable() (string, error) { return os.Executable() }

// workerProcAttr: elsewhere than on Linux, a sync worker notices its
// parent's end when its stdin closes.
func workerProcAttr() *syscall.SysProcAttr { return nil }

// lowerPriority: elsewhere than on Linux, the sync keeps the server's
// priority.
func lowerPriority(level syncPriorityLevel) error { return nil }
