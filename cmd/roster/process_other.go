//go:build !linux

package main

import (
	"os"

	"github.com/rosterhq/roster"
)

// here: elsewhere than on Linux, roster does not learn where its PIDs
// live, so its leases only ever run out.
func here() roster.Process { return roster.Process{Host: hostName(), PID: os.Getpid()} }

// provedDead: elsewhere than on Linux, no holder is proved dead.
func provedDead(holder string) bool { return false }
