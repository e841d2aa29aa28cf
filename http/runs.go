package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rosterhq/roster"
)

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
	runs, err := s.Store.Runs(r.Context(), 0, limit)
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
	run, err := s.Store.Run(r.Context(), id)
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
	run, err := s.Store.Run(r.Context(), id)
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
			run, err := s.Store.Run(r.Context(), id)
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
