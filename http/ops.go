package http

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Pinger is what the readiness check needs of the user base.
type Pinger interface {
	// Ping returns nil when the database answers within ctx's deadline.
	//
	// Errors: none with a roster code; the driver's own when the
	// database does not answer.
	Ping(ctx context.Context) error
}

// healthz says the process answers; it needs no sign-in.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz says the user base answers too.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.health.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "the user base does not answer")
		return
	}
	fmt.Fprintln(w, "ready")
}

// metricsRuns is how many recent runs the metrics summarise.
const metricsRuns = 1000

// metrics serves Prometheus' text format, from the recorded runs. It
// needs a sign-in (a read token will do): run history is not public.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	runs, err := s.runs.Runs(r.Context(), 0, metricsRuns)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	byStatus, err := s.runs.RunCounts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var lastSuccess time.Time
	var last *roster.Run
	for _, run := range runs {
		if last == nil && run.Status != roster.RunRunning {
			last = run
		}
		if run.Status == roster.RunSucceeded && run.FinishedAt.After(lastSuccess) {
			lastSuccess = run.FinishedAt
		}
	}
	var b strings.Builder
	b.WriteString("# HELP roster_runs_total Sync runs recorded, by outcome.\n# TYPE roster_runs_total counter\n")
	for _, st := range []roster.RunStatus{roster.RunSucceeded, roster.RunFailed, roster.RunHeld, roster.RunCancelled, roster.RunRunning} {
		fmt.Fprintf(&b, "roster_runs_total{status=%q} %d\n", st, byStatus[st])
	}
	b.WriteString("# HELP roster_last_success_timestamp_seconds End of the last successful sync.\n# TYPE roster_last_success_timestamp_seconds gauge\n")
	fmt.Fprintf(&b, "roster_last_success_timestamp_seconds %d\n", unixOrZero(lastSuccess))
	if last != nil {
		b.WriteString("# HELP roster_last_run_duration_seconds Duration of the last finished sync.\n# TYPE roster_last_run_duration_seconds gauge\n")
		fmt.Fprintf(&b, "roster_last_run_duration_seconds %.3f\n", last.FinishedAt.Sub(last.StartedAt).Seconds())
		b.WriteString("# HELP roster_last_run_entries Entries the last finished sync read, changed or skipped.\n# TYPE roster_last_run_entries gauge\n")
		for _, kv := range []struct {
			kind string
			n    int
		}{{"seen", last.Seen}, {"created", last.Created}, {"updated", last.Updated}, {"renamed", last.Renamed},
			{"disabled", last.Disabled}, {"reenabled", last.Reenabled}, {"deleted", last.Deleted}, {"failed", last.Failed}, {"held", last.Held}} {
			fmt.Fprintf(&b, "roster_last_run_entries{kind=%q} %d\n", kv.kind, kv.n)
		}
	}
	if sources, err := s.Sources.Sources(r.Context()); err == nil {
		b.WriteString("# HELP roster_directory_certificate_days_left Days until the directory's certificate expires, as last seen.\n# TYPE roster_directory_certificate_days_left gauge\n")
		for _, src := range sources {
			if !src.CertificateNotAfter.IsZero() {
				fmt.Fprintf(&b, "roster_directory_certificate_days_left{source=%q} %d\n", src.Name, roster.DaysLeft(src.CertificateNotAfter, s.Now()))
			}
		}
	}
	b.WriteString("# HELP roster_terminal_refusals_total Terminal identifications refused since this node started, by reason.\n# TYPE roster_terminal_refusals_total counter\n")
	for _, reason := range refusalReasons {
		fmt.Fprintf(&b, "roster_terminal_refusals_total{reason=%q} %d\n", reason, s.refusals.count(reason))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, b.String())
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
