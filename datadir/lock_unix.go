//go:build unix

package datadir

import (
	"os"
	"syscall"
)

// lockFile takes f's exclusive lock without waiting; the system lets it
// go when the process ends, however it ends.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
