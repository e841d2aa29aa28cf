package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// workerProcAttr kills a sync worker when the thread that started it
// ends: a roster serve that dies (kill -9, a crash) must not leave a sync
// writing behind it. The lease's fence would stop its writes anyway, but
// its run is then closed by the node that takes over, not by the orphan.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// workerExecutable is the program a sync worker runs: this very one, even
// when a package upgrade has replaced the file since the server started,
// so that server and worker always speak the same protocol and schema.
func workerExecutable() (string, error) {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe", nil
	}
	return os.Executable()
}

// lowerPriority sets this process's niceness to nice, when that is lower
// in priority than now. Linux keeps a niceness per thread, and a new
// thread takes its creator's: setting it on every thread there is makes
// the whole process nice, for good.
func lowerPriority(nice int) error {
	for round := 0; round < 5; round++ { // the runtime may start threads meanwhile
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		changed := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			// The raw call answers 20 - niceness.
			cur, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
			if err != nil {
				continue // the thread ended
			}
			if 20-cur >= nice {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
				return fmt.Errorf("cannot set the sync's niceness to %d: %w", nice, err)
			}
			changed++
		}
		if changed == 0 {
			return nil
		}
	}
	return nil
}
