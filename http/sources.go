package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Sources is the store's side of source management: the sources whose
// settings are stored, with their passwords sealed. The row of a source
// that only the command line has synced, or that was deleted, has no
// settings: it is none of these, though its users and runs stay.
type Sources interface {
	// SaveSource stores src's settings as given (the caller validates
	// them): a new source when src.ID is 0, whose ID it then sets. The
	// password is sealed. An empty password on an existing source keeps
	// the stored one, so that a form need not send it back, unless the
	// address or the trust settings changed (roster.TrustChanges): then
	// the stored one is dropped, since it never goes to a server it was
	// not entered for. A new source whose name is that of a row without
	// settings takes that row over, with its users, and its ID.
	//
	// Errors: ECONFLICT when another source has the name, unless src is
	// new and that row has no settings; ENOTFOUND when src.ID names no
	// source with settings; EINTERNAL when there is a password to seal
	// and no secret key.
	SaveSource(ctx context.Context, src *roster.Source) error

	// Source returns the settings of the source id, with its password
	// unsealed and the expiry of its directory's certificate as last
	// seen (zero when never seen).
	//
	// Errors: ENOTFOUND when no source with settings has the ID;
	// EINTERNAL when the password cannot be unsealed (no secret key, or
	// not the one it was sealed with).
	Source(ctx context.Context, id int64) (*roster.Source, error)

	// Sources returns every source with settings, by name, as Source
	// returns one.
	//
	// Errors: EINTERNAL, and no list, when a password cannot be
	// unsealed.
	Sources(ctx context.Context) ([]*roster.Source, error)

	// DeleteSource erases the settings and the password of the source
	// id. Its users and runs stay, for the record; a source saved later
	// under the same name takes them over.
	//
	// Errors: ENOTFOUND when no source with settings has the ID.
	DeleteSource(ctx context.Context, id int64) error
}

// Syncer runs the directory operations; cmd/roster implements it with
// the ldap client, the sync engine and the store.
type Syncer interface {
	// Test signs in with the settings, stored or not, and counts users.
	// A directory failure is reported in the result, not as an error.
	Test(ctx context.Context, src *roster.Source) *roster.ConnectionTest

	// Diagnose walks the chain to the source's directory, step by step,
	// up to the first that fails. A directory failure is reported in the
	// result, not as an error.
	Diagnose(ctx context.Context, src *roster.Source) *roster.Diagnosis

	// Move plans, and with apply carries out, the move of the Entra DS
	// source sourceID onto the Entra ID tenant to describes: its users
	// rebound to their Entra ID objects, nobody removed.
	//
	// Errors: EINVALID when the source is not Entra DS, or to not
	// entra-id; the tenant's errors (a refused token, a permission).
	Move(ctx context.Context, sourceID int64, to *roster.Source, apply bool) (*roster.MoveResult, error)

	// Preview plans a sync of the stored source sourceID and writes
	// nothing. When the engine ran but ended in an error, it returns
	// both the preview and the error, and the caller shows the preview.
	//
	// Errors: ENOTFOUND when no source with settings has the ID; the
	// directory's (EUNAVAILABLE, EUNAUTHORIZED, ETLS ...) when it cannot
	// be read.
	Preview(ctx context.Context, sourceID int64) (*roster.Preview, error)

	// Start begins a sync of the stored source sourceID in the
	// background and returns its run's ID once the run is recorded (a
	// failure to connect is recorded as a failed run).
	//
	// Errors: ENOTFOUND when no source with settings has the ID;
	// ECONFLICT when the source is syncing already, on this node or
	// another, or another sync holds this node's data folder.
	Start(sourceID int64, req roster.SyncRequest) (int64, error)

	// NextRun is when the source's next scheduled syncs are planned,
	// zero times for kinds it has no schedule for.
	NextRun(sourceID int64) roster.NextRuns

	// Progress is a run's live progress, or nil for a run this process
	// did not start: the caller then reads the run's record.
	Progress(runID int64) *roster.RunProgress

	// Cancel stops a running sync; it is recorded as cancelled and
	// removes nobody.
	//
	// Errors: ENOTFOUND when the run is not running here; ECONFLICT
	// when it is running on another node, where it must be cancelled.
	Cancel(runID int64) error
}

// sourceJSON is a source as the API reads and writes it: roster's one
// written format for a source (roster.SourceSettings), with its ID and
// what only the API shows. The password is write-only: it is never sent
// back, only whether one is set.
type sourceJSON struct {
	ID int64 `json:"id,omitempty"`
	roster.SourceSettings
	PasswordSet         bool       `json:"password_set"`                    // read-only
	NextFullSync        *time.Time `json:"next_full_sync,omitempty"`        // read-only
	NextIncrementalSync *time.Time `json:"next_incremental_sync,omitempty"` // read-only
	Warnings            []string   `json:"warnings,omitempty"`              // read-only
	// PasswordNote says why password_set is false after an update that
	// changed the address or trust settings; read-only.
	PasswordNote string `json:"password_note,omitempty"`

	legacyRemoval
}

// legacyRemoval holds the removal settings' earlier, flat names, still
// read so that scripts written for them keep working; answers carry only
// "removal". A script that reads a source, sets a flat name and sends it
// all back holds both: each flat name it gives wins over the field of
// "removal" it names.
type legacyRemoval struct {
	RemovalAction    *string          `json:"removal_action,omitempty"`
	RemovalGrace     *roster.Duration `json:"removal_grace,omitempty"`
	ThresholdPercent *float64         `json:"threshold_percent,omitempty"`
	ThresholdCount   *int             `json:"threshold_count,omitempty"`
}

// apply sets the fields of r that the flat names give.
func (l legacyRemoval) apply(r *roster.RemovalSettings) {
	if l.RemovalAction != nil {
		r.Action = *l.RemovalAction
	}
	if l.RemovalGrace != nil {
		r.Grace = *l.RemovalGrace
	}
	if l.ThresholdPercent != nil {
		r.ThresholdPercent = *l.ThresholdPercent
	}
	if l.ThresholdCount != nil {
		r.ThresholdCount = *l.ThresholdCount
	}
}

func toJSON(s *roster.Source) sourceJSON {
	return sourceJSON{ID: s.ID, SourceSettings: roster.SettingsOf(s), PasswordSet: s.Password.IsSet(), Warnings: s.Warnings()}
}

func (j *sourceJSON) source() (*roster.Source, error) {
	j.legacyRemoval.apply(&j.Removal)
	if j.Name == "" {
		return nil, roster.Errorf(roster.EINVALID, "give the source a name")
	}
	s, err := j.SourceSettings.Source()
	if err != nil {
		return nil, err
	}
	s.ID = j.ID
	return s, nil
}

// errPasswordAgain refuses to send the stored password with settings it
// was not stored with.
func errPasswordAgain(changed []string) error {
	return roster.Errorf(roster.EINVALID, "the address or trust settings changed (%s): enter the password again, so that the stored one never goes to a server it was not entered for",
		strings.Join(changed, ", "))
}

// passwordDropped says why an update dropped the stored password.
func passwordDropped(changed []string) string {
	return fmt.Sprintf("the address or trust settings changed (%s): the stored password was dropped; enter the password again", strings.Join(changed, ", "))
}

// readSource decodes a source from the body. For an existing source, an
// empty password keeps the stored one.
func (s *Server) readSource(w http.ResponseWriter, r *http.Request) (*roster.Source, error) {
	var j sourceJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, roster.Errorf(roster.EINVALID, "the source is not valid JSON: %v", err)
	}
	return j.source()
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	list, err := s.Sources.Sources(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]sourceJSON, len(list))
	for i, src := range list {
		out[i] = s.sourceView(src)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": out})
}

func (s *Server) pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, roster.Errorf(roster.EINVALID, "%q is not an ID", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err == nil {
		var src *roster.Source
		if src, err = s.Sources.Source(r.Context(), id); err == nil {
			writeJSON(w, http.StatusOK, s.sourceView(src))
			return
		}
	}
	s.writeError(w, r, err)
}

// saveSource creates (POST) or replaces (PUT) a source. A source must
// validate, but the directory is not contacted: that is what test does.
func (s *Server) saveSource(w http.ResponseWriter, r *http.Request) {
	src, err := s.readSource(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	var changed []string // the address and trust settings an update changes
	if r.Method == http.MethodPut {
		if src.ID, err = s.pathID(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		status = http.StatusOK
		// With a new password, an old one that cannot be read (the secret
		// key changed) is no obstacle; without, it is needed.
		old, err := s.Sources.Source(r.Context(), src.ID)
		if err != nil && !src.Password.IsSet() {
			s.writeError(w, r, err)
			return
		}
		if old != nil {
			changed = roster.TrustChanges(old, src)
		}
		if !src.Password.IsSet() && len(changed) == 0 {
			src.Password = old.Password // for Validate; SaveSource keeps the sealed one
		}
	} else {
		src.ID = 0
	}
	dropped := len(changed) > 0 && !src.Password.IsSet() // SaveSource drops it
	validate := src.Validate
	if dropped {
		validate = src.ValidateSettings
	}
	err = validate()
	if err == nil && s.CheckFilter != nil {
		err = s.CheckFilter(src.UserFilter)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Sources.SaveSource(r.Context(), src); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("source saved", "source", src.Name, "id", src.ID, "by", who(r).name())
	if len(changed) > 0 {
		password := "entered again"
		if dropped {
			password = "dropped"
		}
		s.Log.Warn("source address or trust settings changed", "source", src.Name, "id", src.ID, "changed", changed,
			"password", password, "by", who(r).name())
	}
	for _, warn := range src.Warnings() {
		s.Log.Warn(warn, "source", src.Name)
	}
	view := s.sourceView(src)
	if dropped {
		view.PasswordNote = passwordDropped(changed)
	}
	writeJSON(w, status, view)
}

// sourceView is toJSON with the next planned sync.
func (s *Server) sourceView(src *roster.Source) sourceJSON {
	j := toJSON(src)
	next := s.Syncer.NextRun(src.ID)
	if !next.Full.IsZero() {
		j.NextFullSync = &next.Full
	}
	if !next.Incremental.IsZero() {
		j.NextIncrementalSync = &next.Incremental
	}
	return j
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err == nil {
		err = s.Sources.DeleteSource(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("source deleted", "id", id, "by", who(r).name())
	w.WriteHeader(http.StatusNoContent)
}

// testSource tests settings from the body, before or without saving
// them. With an id and no password, the stored password is used, and
// only with the stored address and trust settings: a test that changes
// them must bring the password, and is refused before any connection.
func (s *Server) testSource(w http.ResponseWriter, r *http.Request) {
	s.try(w, r, func(ctx context.Context, src *roster.Source) any { return s.Syncer.Test(ctx, src) })
}

// diagnoseSource walks the chain to the directory of the settings in the
// body (roster doctor), with the stored password on the same terms as a
// connection test.
func (s *Server) diagnoseSource(w http.ResponseWriter, r *http.Request) {
	s.try(w, r, func(ctx context.Context, src *roster.Source) any { return s.Syncer.Diagnose(ctx, src) })
}

// try answers what fn finds with the settings in the body
// (sourceToTry), within two minutes.
func (s *Server) try(w http.ResponseWriter, r *http.Request, fn func(context.Context, *roster.Source) any) {
	src, ok := s.sourceToTry(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	writeJSON(w, http.StatusOK, fn(ctx, src))
}

// sourceToTry reads the settings a test or a diagnosis tries, with the
// stored password where the body brings none and changes no address or
// trust setting; it answers the error itself and returns false.
func (s *Server) sourceToTry(w http.ResponseWriter, r *http.Request) (*roster.Source, bool) {
	src, err := s.readSource(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	if src.ID != 0 {
		old, err := s.Sources.Source(r.Context(), src.ID)
		if err != nil {
			s.writeError(w, r, err)
			return nil, false
		}
		changed := roster.TrustChanges(old, src)
		switch {
		case len(changed) > 0 && !src.Password.IsSet():
			s.Log.Warn("connection test refused: the stored password is not sent with changed address or trust settings",
				"source", old.Name, "id", old.ID, "changed", changed, "by", who(r).name())
			s.writeError(w, r, errPasswordAgain(changed))
			return nil, false
		case len(changed) > 0:
			src.ID = 0 // another endpoint: what it shows is not the stored source's
		case !src.Password.IsSet():
			src.Password = old.Password
		}
	}
	if s.CheckFilter != nil {
		if err := s.CheckFilter(src.UserFilter); err != nil {
			s.writeError(w, r, err)
			return nil, false
		}
	}
	return src, true
}

func (s *Server) previewSource(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.Syncer.Preview(r.Context(), id)
	if err != nil && p == nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) syncSource(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := roster.SyncRequest{ApproveRemovals: r.URL.Query().Get("approve_removals") == "true"}
	switch mode := r.URL.Query().Get("mode"); mode {
	case "", "full":
	case "incremental":
		req.Incremental = true
	default:
		s.writeError(w, r, roster.Errorf(roster.EINVALID, "mode %q is not full or incremental", mode))
		return
	}
	runID, err := s.Syncer.Start(id, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Log.Info("sync started", "source_id", id, "run", runID, "by", who(r).name())
	writeJSON(w, http.StatusAccepted, map[string]any{"run_id": runID,
		"progress": fmt.Sprintf("/api/v1/runs/%d/progress", runID), "events": fmt.Sprintf("/api/v1/runs/%d/events", runID)})
}

// moveSource answers POST /api/v1/sources/{id}/move: the body is the
// Entra ID source the Entra DS source moves to (type entra-id, its app
// registration, its client secret if it has no certificate); without
// ?apply=true the answer is the plan, and nothing changes.
func (s *Server) moveSource(w http.ResponseWriter, r *http.Request) {
	id, err := s.pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := s.readSource(w, r)
	if err == nil {
		err = to.Validate()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	apply := r.URL.Query().Get("apply") == "true"
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute)
	defer cancel()
	res, err := s.Syncer.Move(ctx, id, to, apply)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if apply {
		s.Log.Info("source moved to Entra ID", "id", id, "rebound", res.Rebound, "unmatched", len(res.Unmatched), "ambiguous", len(res.Ambiguous), "by", who(r).name())
	}
	writeJSON(w, http.StatusOK, res)
}
