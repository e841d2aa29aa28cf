//go:build !linux

package runner

import (
	"os"

	"github.com/rosterhq/roster"
)

// Here: elsewhere than on Linux, roster does not learn where its PIDs
// live, so its leases only ever run out.
func Here() roster.Process { return roster.Process{Host: hostName(), PID: os.Getpid()} }

// provedDead: elsewhere than on Linux, no holder is proved dead.
func provedDead(holder string) bool { return false }
