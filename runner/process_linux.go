package runner

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/rosterhq/roster"
)

// Here is where this process's PIDs live: its host, the kernel's boot ID
// and its PID namespace, read once; any of them unknown leaves Boot or
// PIDNS empty, and then no lease is ever taken over early.
var Here = sync.OnceValue(func() roster.Process {
	p := roster.Process{Host: hostName(), PID: os.Getpid()}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		id := strings.ReplaceAll(strings.TrimSpace(string(b)), "-", "")
		if len(id) == 32 && strings.Trim(id, "0123456789abcdef") == "" {
			p.Boot = id
		}
	}
	// "pid:[4026531836]": the namespace's inode, unique among the
	// namespaces that exist; one that is gone took its processes with it.
	if link, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		if ino, ok := strings.CutPrefix(link, "pid:["); ok {
			if ino, ok = strings.CutSuffix(ino, "]"); ok {
				if _, err := strconv.ParseUint(ino, 10, 64); err == nil {
					p.PIDNS = ino
				}
			}
		}
	}
	if _, start, err := procState(p.PID); err == nil {
		p.Start = start
	}
	return p
})

// procState reads a process's state letter (R, S, Z ...) and its start
// time, in clock ticks after boot, from /proc/PID/stat (proc(5)).
func procState(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command's name (field 2) is in parentheses and may hold
	// anything: the fields after it start after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, errors.New("no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, errors.New("too few fields")
	}
	// f[0] is field 3, the state; f[19] is field 22, the start time.
	start, err = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, err
}

// provedDead reports whether holder, a lease's holder, is a roster
// process that has ended for sure: it lived in this process's PID space
// (same host, boot and PID namespace), and its PID now names no process
// (kill(pid, 0) gives ESRCH), a process that has ended but is not yet
// reaped (a zombie), or a process that started after it (the PID was
// given again). Anything uncertain (an old holder without those details,
// another machine or container, /proc unreadable) is not proof.
func provedDead(holder string) bool {
	p, ok := roster.ParseProcess(holder)
	if !ok || !p.SamePIDs(Here()) || p.PID <= 0 {
		return false
	}
	switch err := syscall.Kill(p.PID, 0); {
	case errors.Is(err, syscall.ESRCH):
		return true
	case err != nil && !errors.Is(err, syscall.EPERM): // EPERM: it exists, as another user
		return false
	}
	state, start, err := procState(p.PID)
	if err != nil {
		return false
	}
	return state == 'Z' || state == 'X' || start > p.Start
}
