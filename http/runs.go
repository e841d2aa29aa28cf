package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rosterhq/roster"
)

// RunStore is what the runs API, the metrics and a run's progress need
// of the record of runs: every sync, and every write-back and write
// test, is recorded as a roster.Run of its source.
type RunStore interface {
	// Runs returns up to limit runs, newest (highest ID) first: those of
	// the source sourceID, or of every source when sourceID is 0. A
	// limit of 0 or less means all. The runs carry their counts, status,
	// error and notes, not their entry errors or held users: Run returns
	// those.
	//
	// Errors: none with a roster code.
	Runs(ctx context.Context, sourceID int64, limit int) ([]*roster.Run, error)

	// LatestRun returns the newest run of the source sourceID whose mode
	// is one of modes, without its entry errors and held users, or nil
	// (and no error) when there is none. Give at least one mode.
	//
	// Errors: none with a roster code.
	LatestRun(ctx context.Context, sourceID int64, modes ...roster.RunMode) (*roster.Run, error)

	// Run returns the run with this ID, with its entry errors, in the
	// order they were recorded, and its held users, by ID. A run not
	// finished has status running.
	//
	// Errors: ENOTFOUND when no run has the ID.
	Run(ctx context.Context, id int64) (*roster.Run, error)

	// RunCounts returns how many runs are recorded with each status, of
	// every source, over all time, running ones included. A status no
	// run has is absent from the map (and so reads as 0).
	//
	// Errors: none with a roster code.
	RunCounts(ctx context.Context) (map[roster.RunStatus]int, error)
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, roster.Errorf(roster.EINVALID, "limit must be 1 to 1000"))
			return
		}
		limit = n
	}
	runs, err := s.runs.Runs(r.Context(), 0, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": nonNil(runs)})
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "%q is not a run ID", r.PathValue("id")))
		return
	}
	run, err := s.runs.Run(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

func (s *Server) runProgress(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if p := s.Syncer.Progress(id); p != nil {
		writeJSON(w, http.StatusOK, p)
		return
	}
	run, err := s.runs.Run(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roster.RunProgress{RunID: id, Phase: "done", Seen: run.Seen, Done: run.Done(), Status: run.Status,
		Elapsed: run.FinishedAt.Sub(run.StartedAt).Seconds()})
}

// runEvents streams a run's progress as server-sent events, twice a
// second, until it is done (bounded to an hour).
func (s *Server) runEvents(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		s.writeError(w, r, roster.Errorf(roster.EINTERNAL, "streaming is not supported here"))
		return
	}
	// The stream outlives the server's write timeout by design.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Hour)
	for {
		p := s.Syncer.Progress(id)
		if p == nil {
			run, err := s.runs.Run(r.Context(), id)
			if err != nil {
				fmt.Fprintf(w, "event: error\ndata: %q\n\n", roster.ErrorMessage(err))
				fl.Flush()
				return
			}
			// Not running here: say where it stands, and end. (A run the
			// record calls running is another process's, or was cut short.)
			p = &roster.RunProgress{RunID: id, Phase: "done", Seen: run.Seen, Done: true, Status: run.Status}
		}
		b, _ := json.Marshal(p)
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
		if p.Done {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-deadline:
			return
		case <-tick.C:
		}
	}
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err == nil {
		err = s.Syncer.Cancel(id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("sync cancelled", "run", id, "by", who(r).name())
	w.WriteHeader(http.StatusAccepted)
}
