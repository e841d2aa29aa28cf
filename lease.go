package roster

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Lease is one roster process's right to run the syncs of a source until
// Expires. Several roster nodes share a PostgreSQL user base; the lease
// makes sure that exactly one of them syncs a given source at a time, and
// that another takes over when the holder dies: its lease is no longer
// renewed and runs out.
type Lease struct {
	SourceID   int64
	Holder     string // the process (see Process)
	AcquiredAt time.Time
	Expires    time.Time

	// Abandoned counts the source's runs that were still recorded as
	// running when this lease was taken afresh, and were marked failed:
	// only a lease holder runs a source, so their node had died.
	Abandoned int64
	// TakenFrom is the holder whose lease was taken over before it ran
	// out, its process proved dead (TakeOverLease); "" otherwise.
	TakenFrom string
}

// ErrLeaseLost is wrapped by the ECONFLICT error of a write that a sync
// makes after its process lost the source's lease (it ran out, and
// another node may hold it now): unlike a card another user holds, no
// retry of the write can succeed, and the sync stops.
var ErrLeaseLost = errors.New("the sync's lease of its source is lost")

// Process names a roster process in a lease (Lease.Holder): the host it
// runs on, its PID there, and a random part, so that a restarted process
// never passes for its former self. Where the PID means something is
// named too: the kernel's boot (its boot ID) and the PID namespace (a
// container has its own), with the process's start time, so that a
// process of the same machine can prove the holder dead, even after its
// PID was given to another process. Holders written by older versions,
// "HOST/PID/RANDOM", have no Boot, PIDNS or Start: nobody can prove them
// dead, and their lease runs out as it always did.
type Process struct {
	Host  string
	PID   int
	Nonce string
	Boot  string // the kernel's boot ID, in hex; "" when unknown
	PIDNS string // the PID namespace's inode number; "" when unknown
	Start uint64 // when the process started, in clock ticks after boot; 0 when unknown
}

// String is the process as a lease's holder:
// HOST/PID/RANDOM/BOOT:PIDNS:START, or HOST/PID/RANDOM when where the PID
// lives is unknown. A "/" in the host name becomes "_".
func (p Process) String() string {
	s := strings.ReplaceAll(p.Host, "/", "_") + "/" + strconv.Itoa(p.PID) + "/" + p.Nonce
	if p.Located() {
		s += "/" + p.Boot + ":" + p.PIDNS + ":" + strconv.FormatUint(p.Start, 10)
	}
	return s
}

// Located reports whether p says where its PID lives and when it
// started: without that, no one can prove it dead.
func (p Process) Located() bool {
	return p.Boot != "" && p.PIDNS != "" && p.Start > 0
}

// SamePIDs reports whether p and q are both Located in one PID space: the
// same host, the same boot of its kernel and the same PID namespace, so
// that p's PID, and its start time, mean the same to q.
func (p Process) SamePIDs(q Process) bool {
	return p.Located() && q.Located() && p.Host == q.Host && p.Boot == q.Boot && p.PIDNS == q.PIDNS
}

// ParseProcess reads a lease holder written by Process.String, in either
// form. ok is false for anything else.
func ParseProcess(s string) (p Process, ok bool) {
	f := strings.Split(s, "/")
	if len(f) != 3 && len(f) != 4 {
		return Process{}, false
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 || f[0] == "" || f[2] == "" {
		return Process{}, false
	}
	p = Process{Host: f[0], PID: pid, Nonce: f[2]}
	if len(f) == 4 {
		where := strings.Split(f[3], ":")
		if len(where) != 3 {
			return Process{}, false
		}
		start, err := strconv.ParseUint(where[2], 10, 64)
		if err != nil || where[0] == "" || where[1] == "" || start == 0 {
			return Process{}, false
		}
		p.Boot, p.PIDNS, p.Start = where[0], where[1], start
	}
	return p, true
}
