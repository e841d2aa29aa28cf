package roster

import "time"

// ConnectionTest is what "test connection" found: the TLS session, the
// directory's certificate, the sign-in, and how many users the settings
// would sync. A directory failure is not an error of the test: Error
// says, in an admin's words, what went wrong and what to do.
type ConnectionTest struct {
	OK          bool             `json:"ok"`
	URL         string           `json:"url"`
	TLSVersion  string           `json:"tls_version,omitempty"`
	Verified    string           `json:"verified,omitempty"` // chain, pin, none
	Certificate *CertificateInfo `json:"certificate,omitempty"`
	Login       string           `json:"login,omitempty"`
	Directory   string           `json:"directory,omitempty"`
	Users       int              `json:"users"`
	Disabled    int              `json:"disabled"`
	Warnings    []string         `json:"warnings,omitempty"`
	Error       string           `json:"error,omitempty"`
	ErrorCode   string           `json:"error_code,omitempty"`
}

// CertificateInfo describes the certificate a directory presented.
type CertificateInfo struct {
	Subject  string    `json:"subject"`
	SANs     []string  `json:"sans"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	SHA256   string    `json:"sha256"`
	SHA1     string    `json:"sha1"`
	Trusted  bool      `json:"trusted"`
	Problem  string    `json:"problem,omitempty"`
	// PEM is the top certificate the server sent, for "trust this
	// certificate": it can become the source's CA.
	PEM string `json:"pem,omitempty"`
}

// Preview is a dry run's plan.
type Preview struct {
	Run     *Run     `json:"run"`
	Changes []Change `json:"changes"`
	More    int      `json:"more,omitempty"` // changes left out of Changes
	Held    int      `json:"held"`
}

// RunProgress is where a running sync stands.
type RunProgress struct {
	RunID   int64     `json:"run_id"`
	Phase   string    `json:"phase"`
	Seen    int       `json:"seen"`
	Elapsed float64   `json:"elapsed_seconds"`
	Done    bool      `json:"done"`
	Status  RunStatus `json:"status"`
}

// SyncRequest is how a sync is asked for, from the console, the API or
// the scheduler.
type SyncRequest struct {
	Incremental     bool // only what changed since the last successful run
	ApproveRemovals bool // carry out the removals the last run held

	// Slot, for scheduled runs, is the time the run is planned for: the
	// run is skipped when one of its kind (full; for an incremental
	// run, full or incremental) started at or after it, on any node
	// sharing the database. Zero for runs started by hand.
	Slot time.Time
}

// NextRuns is when roster serve plans a source's next syncs; a zero time
// means none of that kind is planned.
type NextRuns struct {
	Full        time.Time
	Incremental time.Time
}
