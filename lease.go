package roster

import "time"

// Lease is one roster process's right to run the syncs of a source until
// Expires. Several roster nodes share a PostgreSQL user base; the lease
// makes sure that exactly one of them syncs a given source at a time, and
// that another takes over when the holder dies: its lease is no longer
// renewed and runs out.
type Lease struct {
	SourceID   int64
	Holder     string // the process: host, PID and a random part
	AcquiredAt time.Time
	Expires    time.Time

	// Abandoned counts the source's runs that were still recorded as
	// running when this lease was taken afresh, and were marked failed:
	// only a lease holder runs a source, so their node had died.
	Abandoned int64
}
