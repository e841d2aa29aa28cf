package runner

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
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

// schedIdle is Linux's SCHED_IDLE scheduling class.
const schedIdle = 5

// LowerPriority lowers this process's CPU priority to level: niceness 19
// (when it is not lower already), and for idle the SCHED_IDLE class,
// whose threads a waking normal thread always preempts. Linux keeps both
// per thread, and a new thread takes its creator's: setting them on every
// thread there is makes the whole process yield, for good.
func LowerPriority(level Priority) error {
	if level == PriorityNormal {
		return nil
	}
	const nice = 19
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
			if level == PriorityIdle {
				var param struct{ priority int32 } // must be 0 for SCHED_IDLE
				if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedIdle, uintptr(unsafe.Pointer(&param))); errno != 0 && errno != syscall.ESRCH {
					return fmt.Errorf("cannot put the sync in the idle scheduling class: %w", errno)
				}
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
