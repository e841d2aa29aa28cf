//go:build !linux

package main

import "syscall"

// workerProcAttr: elsewhere than on Linux, a sync worker notices its
// parent's end when its stdin closes.
func workerProcAttr() *syscall.SysProcAttr { return nil }

// lowerPriority: elsewhere than on Linux, the sync keeps the server's
// priority.
func lowerPriority(nice int) error { return nil }
