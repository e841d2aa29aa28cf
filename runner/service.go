package runner

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/doctor"
	"github.com/rosterhq/roster/graph"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
	"github.com/rosterhq/roster/reconcile"
)

// Service runs directory operations for roster serve: test a
// connection, preview, and syncs in the background, one at a time per
// source, with live progress and cancellation. Make it with NewService;
// set its exported fields before the first Start.
type Service struct {
	r       *Runner
	dataDir string          // locked for the length of each sync, as roster sync does
	base    context.Context // ends at shutdown: running syncs stop and are recorded as cancelled

	sched *scheduler

	holder string // this process, in sync leases

	// InProcess runs syncs inside this process; by default each runs in
	// a sync worker, a child process (worker.go), at Priority.
	InProcess bool
	Priority  Priority
	// DBLocation is the user base a worker opens: a file or a URL,
	// passed in the environment, never on the command line.
	DBLocation string
	// LeaseTTL is how long a lease lasts without renewal.
	LeaseTTL time.Duration
	// Stderr takes the workers' logs; Getenv gives the settings a worker
	// inherits as this server sees them.
	Stderr io.Writer
	Getenv func(string) string

	mu       sync.Mutex
	jobs     map[int64]*job  // by run ID, running or finished
	bySource map[int64]int64 // source ID -> running run ID
	wg       sync.WaitGroup
}

type job struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	p      roster.RunProgress
}

// NewService returns the service of r's user base, whose syncs lock the
// data folder dataDir and stop when base ends.
func NewService(base context.Context, r *Runner, dataDir string) *Service {
	return &Service{r: r, dataDir: dataDir, base: base, jobs: map[int64]*job{}, bySource: map[int64]int64{},
		holder: NodeID(), LeaseTTL: DefaultLeaseTTL, Priority: PriorityIdle, Stderr: io.Discard, Getenv: func(string) string { return "" }}
}

// Test probes the TLS endpoint (so an untrusted certificate is shown, with
// what to trust), then signs in and counts the users.
func (s *Service) Test(ctx context.Context, src *roster.Source) *roster.ConnectionTest {
	url, _ := src.URL()
	t := &roster.ConnectionTest{URL: url, Warnings: src.Warnings()}
	if err := src.Validate(); err != nil {
		t.Error, t.ErrorCode = roster.ErrorMessage(err), roster.ErrorCode(err)
		return t
	}
	if src.Type == roster.EntraID {
		return s.testGraph(ctx, src, t)
	}
	if src.Mode() != roster.Plain {
		probe, err := ldap.Dialer{Now: s.r.Now}.Probe(ctx, src)
		if err != nil {
			t.Error, t.ErrorCode = roster.ErrorMessage(err), roster.ErrorCode(err)
			return t
		}
		t.TLSVersion = tls.VersionName(probe.TLSVersion)
		if len(probe.Chain) > 0 && src.ID != 0 {
			s.r.Store.SetSourceCertificate(ctx, src.ID, probe.Chain[0].NotAfter)
		}
		if len(probe.Chain) > 0 {
			sum := pfx.Summarize(probe.Chain[0], s.r.Now())
			top := probe.Chain[len(probe.Chain)-1]
			t.Certificate = &roster.CertificateInfo{Subject: sum.Subject, SANs: sum.SANs, Issuer: sum.Issuer, NotAfter: sum.NotAfter,
				DaysLeft: sum.DaysLeft, SHA256: sum.SHA256, SHA1: sum.SHA1, Trusted: probe.Problem == nil,
				PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: top.Raw}))}
		}
		if probe.Problem != nil {
			t.Certificate.Problem = roster.ErrorMessage(probe.Problem)
			t.Error, t.ErrorCode = roster.ErrorMessage(probe.Problem), roster.ETLS
			return t
		}
	}
	rep, err := ldap.Dialer{Now: s.r.Now}.Survey(ctx, src, s.r.Log)
	if err != nil {
		t.Error, t.ErrorCode = roster.ErrorMessage(err), roster.ErrorCode(err)
		return t
	}
	t.OK, t.TLSVersion, t.Verified, t.Login, t.Directory, t.Users = true, rep.TLSVersion, rep.Verified, rep.Login, rep.Directory, rep.Users
	if rep.Disabled != nil {
		t.Disabled = *rep.Disabled
	}
	t.Warnings = rep.Warnings
	return t
}

// Diagnose walks the chain to src's directory (package doctor).
func (s *Service) Diagnose(ctx context.Context, src *roster.Source) *roster.Diagnosis {
	return doctor.Doctor{Now: s.r.Now, Log: s.r.Log}.Diagnose(ctx, src)
}

// testGraph tests an Entra ID source: a token for its app, then the
// users a sync would read, counted.
func (s *Service) testGraph(ctx context.Context, src *roster.Source, t *roster.ConnectionTest) *roster.ConnectionTest {
	d, err := graph.Open(src)
	if err == nil {
		t.URL = d.Client.GraphHost()
		var sv *graph.Survey
		if sv, err = d.Survey(ctx); err == nil {
			t.OK, t.Verified, t.Login, t.Users, t.Disabled = true, "chain", "app "+sv.ClientID, sv.Users, sv.Disabled
			t.Directory = "Entra ID, tenant " + sv.Tenant
			return t
		}
	}
	t.Error, t.ErrorCode = roster.ErrorMessage(err), roster.ErrorCode(err)
	return t
}

// maxPreviewChanges bounds a preview's list; the counts stay exact.
const maxPreviewChanges = 2000

// Preview plans a sync of a stored source and writes nothing.
func (s *Service) Preview(ctx context.Context, sourceID int64) (*roster.Preview, error) {
	src, err := s.r.Store.Source(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	// The preview keeps the first changes and counts the others: the
	// plan of a large directory's first sync would not fit in memory.
	var kept []roster.Change
	left := 0
	keep := func(changes []roster.Change) error {
		n := min(len(changes), maxPreviewChanges-len(kept))
		kept = append(kept, changes[:n]...)
		left += len(changes) - n
		return nil
	}
	res, err := s.r.Sync(ctx, src, sourceID, reconcile.Options{DryRun: true, Plan: keep}, Hooks{})
	if res == nil {
		return nil, err
	}
	// The run keeps the first of its held removals whole (Result.Held):
	// those it left out count among the changes left out.
	return &roster.Preview{Run: res.Run, Held: res.Run.Held, Changes: kept, More: res.Run.Held - len(res.Held) + left}, err
}

// Start begins a sync of a stored source in the background and returns
// its run's ID once the run is recorded (a failure to connect is recorded
// as a failed run too).
//
// Errors: ECONFLICT when the source is already syncing; ENOTFOUND.
func (s *Service) Start(sourceID int64, req roster.SyncRequest) (int64, error) {
	src, err := s.r.Store.Source(s.base, sourceID)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if _, busy := s.bySource[sourceID]; busy {
		s.mu.Unlock()
		return 0, roster.Errorf(roster.ECONFLICT, "the source %s is syncing already", src.Name)
	}
	s.bySource[sourceID] = 0
	s.mu.Unlock()
	// One sync at a time per data folder, console and command line
	// alike; one node at a time per source, across all nodes sharing the
	// database: a node that loses its lease stops its sync.
	ctx, cancel := context.WithCancelCause(s.base)
	claim, err := ClaimSource(ctx, s.r.Store, s.r.Log, s.dataDir, sourceID, src.Name, s.holder, s.LeaseTTL)
	if errors.Is(err, datadir.ErrLocked) {
		err = roster.Errorf(roster.ECONFLICT, "another sync is running on this data folder (a roster sync from the command line, or another source); try again when it ends")
	}
	if err == nil && !req.Slot.IsZero() {
		if err = s.slotTaken(src, req); err != nil {
			claim.Release()
		}
	}
	if err != nil {
		cancel(nil)
		s.mu.Lock()
		delete(s.bySource, sourceID)
		s.mu.Unlock()
		return 0, err
	}
	ctx = claim.Ctx
	j := &job{cancel: func() { cancel(context.Canceled) }}
	// The run's ID once recorded, or why the sync ended before it was.
	type outcome struct {
		runID int64
		err   error
	}
	started := make(chan outcome, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel(nil)
		defer claim.Release()
		var runID int64
		defer func() {
			if p := recover(); p != nil {
				s.r.Log.Error("a sync crashed", "source", src.Name, "panic", p)
				select {
				case started <- outcome{runID, nil}: // Start must not wait forever
				default:
				}
			}
			s.mu.Lock()
			delete(s.bySource, sourceID)
			s.mu.Unlock()
			j.mu.Lock()
			j.p.Done = true
			j.mu.Unlock()
		}()
		sent := false
		h := Hooks{
			Started: func(id int64) {
				runID = id
				s.track(id, j, roster.RunRunning)
				if !sent {
					sent = true
					started <- outcome{id, nil}
				}
			},
			Progress: func(p reconcile.Progress) {
				j.mu.Lock()
				j.p.Phase, j.p.Seen, j.p.Elapsed = p.Phase, p.Seen, p.Elapsed.Seconds()
				j.mu.Unlock()
			},
		}
		run := s.syncInChild
		if s.InProcess {
			run = s.syncHere
		}
		status, err := run(ctx, src, req, h)
		if status != "" {
			j.mu.Lock()
			j.p.Status = status
			j.mu.Unlock()
		}
		if !sent { // the sync failed before recording the run
			sent = true
			started <- outcome{0, err}
		}
		if err != nil {
			s.r.Log.Warn("sync failed", "source", src.Name, "err", err)
		}
	}()
	o := <-started
	switch {
	case o.runID != 0:
		return o.runID, nil
	case roster.ErrorCode(o.err) != roster.EINTERNAL:
		return 0, o.err // it says why, for the admin
	case o.err != nil:
		return 0, roster.Errorf(roster.EINTERNAL, "the sync of %s could not start: %v", src.Name, o.err)
	}
	return 0, roster.Errorf(roster.EINTERNAL, "the sync of %s could not start; roster serve's log says why", src.Name)
}

// syncHere runs one sync of src inside this process: roster serve
// -sync-in-process, and the work of a sync worker. It returns the run's
// status ("" when no run could be recorded) and the sync's error.
func (s *Service) syncHere(ctx context.Context, src *roster.Source, req roster.SyncRequest, h Hooks) (roster.RunStatus, error) {
	return s.r.syncStored(ctx, src, req, h)
}

// CheckPassword signs in to the user's directory as the user (its DN),
// over the source's TLS settings: the terminal API's password check. One
// bind, never retried: the directory locks accounts after a few wrong
// passwords, and its reason (wrong, locked, expired, must change) comes
// back translated.
func (s *Service) CheckPassword(ctx context.Context, u *roster.User, pw roster.Secret) error {
	if u.SourceID == 0 || u.DN == "" {
		return roster.Errorf(roster.EINVALID, "%s was made in roster, not read from a directory: there is no directory to check the password with", u.Login)
	}
	src, err := s.r.Store.Source(ctx, u.SourceID)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return roster.Errorf(roster.EUNAVAILABLE, "the source of %s is not set up in the console, so roster has no directory settings to check its password with", u.Login)
	}
	if err != nil {
		return err
	}
	as := *src
	as.Login, as.Password = u.DN, pw
	c, err := ldap.Dialer{Now: s.r.Now}.SignIn(ctx, &as)
	if err != nil {
		return forTerminal(err, u)
	}
	return c.Close()
}

// forTerminal keeps, of a refused bind, what the person at a terminal may
// read: AD's reason (wrong password, locked, expired, must change) under
// the user's login, not the entry's DN; and else only "wrong login or
// password", with no hint about the directory's accounts.
func forTerminal(err error, u *roster.User) error {
	if roster.ErrorCode(err) != roster.EUNAUTHORIZED {
		return err
	}
	code, reason, ok := ldap.ADBindReason(err)
	if !ok {
		return roster.Errorf(roster.EUNAUTHORIZED, "wrong login or password")
	}
	return roster.Errorf(roster.EUNAUTHORIZED, "%s", ldap.ADRefusal(u.Login, code, reason))
}

// writeBackLimit bounds one write-back, retries included (a variable for
// the tests).
var writeBackLimit = 20 * time.Second

// WriteBack writes value to the user's directory entry, in the attribute
// the user's source names for field, as the source's account; it returns
// that attribute, or "" when the source writes nothing back. A value the
// entry holds already is not written again. Each write is recorded as a
// run of the source (mode write-back), without the value. A write takes
// at most writeBackLimit, retries included.
func (s *Service) WriteBack(ctx context.Context, u *roster.User, field roster.WriteField, value string) (string, error) {
	if u.SourceID == 0 || u.DN == "" {
		return "", nil
	}
	src, err := s.r.Store.Source(ctx, u.SourceID)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return "", nil // a source from the command line's configuration: no write-back settings
	}
	if err != nil {
		return "", err
	}
	attr := src.WriteBack.Attribute(field)
	if attr == "" {
		return "", nil
	}
	start := s.r.Now()
	// Bounded: an admin waits for the answer, which may carry a print
	// code shown once, while a throttled directory would hold it through
	// every retry (minutes on Graph).
	wctx, cancel := context.WithTimeoutCause(ctx, writeBackLimit, roster.Errorf(roster.EUNAVAILABLE,
		"the directory did not take the write within %s; the value is set in roster: write it again later (set it again, or run the write-back test)", writeBackLimit))
	changed, err := s.writeAttr(wctx, src, u.DN, attr, field, value)
	if err != nil && wctx.Err() != nil && ctx.Err() == nil {
		err = context.Cause(wctx)
	}
	cancel()
	what := strings.ReplaceAll(string(field), "_", " ")
	run := &roster.Run{SourceID: u.SourceID, Mode: roster.RunWriteBack, StartedAt: start}
	if s.r.Store.StartRun(ctx, run) == nil {
		run.Status = roster.RunSucceeded
		switch {
		case err != nil:
			run.Status, run.Error = roster.RunFailed, roster.ErrorMessage(err)
			run.Notes = []string{fmt.Sprintf("the %s of %s was not written to %s", what, u.Login, attr)}
		case changed:
			run.Notes = []string{fmt.Sprintf("wrote the %s of %s to %s of %s", what, u.Login, attr, u.DN)}
		default:
			run.Notes = []string{fmt.Sprintf("the %s of %s was in %s already: nothing written", what, u.Login, attr)}
		}
		s.r.Store.FinishRun(context.WithoutCancel(ctx), run)
	}
	return attr, err
}

// TestWrite tries, on one user of the source, to write each write-back
// attribute with the value it holds: the directory checks the right, and
// nothing changes.
func (s *Service) TestWrite(ctx context.Context, sourceID int64) (*roster.WriteTest, error) {
	src, err := s.r.Store.Source(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	if src.WriteBack.IsZero() {
		return nil, roster.Errorf(roster.EINVALID, "the source %s writes nothing back: name the print code or card attribute under write-back first", src.Name)
	}
	// Enabled users that are still in the directory; for each attribute
	// the first whose entry holds a value (an empty one is not tried).
	enabled := false
	users, _, err := s.r.Store.FindUsers(ctx, roster.UserFilter{SourceID: sourceID, Disabled: &enabled, Limit: 50})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, roster.Errorf(roster.EINVALID, "the source %s has no enabled users yet to try a write on: sync it first", src.Name)
	}
	if src.Type == roster.EntraID {
		return s.testGraphWrite(ctx, src, users[0])
	}
	c, err := ldap.Dialer{Now: s.r.Now}.SignIn(ctx, src)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	t := &roster.WriteTest{}
	for _, f := range []roster.WriteField{roster.WritePrintCode, roster.WriteCard} {
		attr := src.WriteBack.Attribute(f)
		if attr == "" {
			continue
		}
		check := roster.WriteCheck{Field: f, Attribute: attr}
		for _, u := range users {
			if u.DN == "" {
				continue
			}
			err := c.TestWrite(ctx, u.DN, attr)
			if roster.ErrorCode(err) == roster.EINVALID || roster.ErrorCode(err) == roster.ENOTFOUND {
				check.Error = roster.ErrorMessage(err) // empty there, or gone: try the next user
				continue
			}
			t.User, check.Error, check.OK = u.DN, "", err == nil
			if err != nil {
				check.Error = roster.ErrorMessage(err)
			}
			break
		}
		t.Checks = append(t.Checks, check)
	}
	s.r.Log.Info("write-back tested", "source", src.Name, "entry", t.User, "checks", len(t.Checks))
	return t, nil
}

// testGraphWrite tests an Entra ID source's write-back: Graph writes a
// user's property only for an app granted User.ReadWrite.All, which its
// token's roles say, and a write of the value a user holds already is
// not sent (SetProperty), so the token is what can be tried.
func (s *Service) testGraphWrite(ctx context.Context, src *roster.Source, u *roster.User) (*roster.WriteTest, error) {
	d, err := graph.Open(src)
	if err != nil {
		return nil, err
	}
	token, err := d.Client.Token(ctx)
	if err != nil {
		return nil, err
	}
	roles, readable := graph.TokenRoles(token)
	check := roster.WriteCheck{Field: roster.WritePrintCode, Attribute: src.WriteBack.PrintCode, OK: graph.CanWrite(roles)}
	switch {
	case !readable:
		check.Error = "the app's token does not show its permissions, so roster cannot tell whether it may write: the first write-back will say (it needs User.ReadWrite.All)"
	case !check.OK:
		check.Error = "the app's token does not carry User.ReadWrite.All: grant the app that permission (application) and admin consent, or leave write-back off"
	}
	return &roster.WriteTest{User: u.DN, Checks: []roster.WriteCheck{check}}, nil
}

func (s *Service) writeAttr(ctx context.Context, src *roster.Source, dn, attr string, field roster.WriteField, value string) (bool, error) {
	if src.Type == roster.EntraID { // the DN is the object ID
		d, err := graph.Open(src)
		if err != nil {
			return false, err
		}
		return d.Client.SetProperty(ctx, dn, attr, value)
	}
	c, err := ldap.Dialer{Now: s.r.Now}.SignIn(ctx, src)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if field == roster.WriteCard { // the primary card: the others stay
		return c.WriteFirstValue(ctx, dn, attr, src.Mapping.WithDefaults(src.Type).CardSeparators, value)
	}
	return c.WriteAttribute(ctx, dn, attr, []string{value})
}

// errSlotTaken says a scheduled run was not started because a run of its
// kind already started in its slot, on this node or another.
var errSlotTaken = errors.New("a run of this kind started in this slot already")

// slotTaken reports errSlotTaken when a scheduled run (req.Slot set) is
// no longer needed: a run of its kind started at or after the slot, on
// any node. Called under the source's lease, so two nodes cannot both
// find the slot free.
func (s *Service) slotTaken(src *roster.Source, req roster.SyncRequest) error {
	modes := []roster.RunMode{roster.RunFull}
	if req.Incremental {
		modes = append(modes, roster.RunIncremental)
	}
	last, err := s.r.Store.LastRunStart(s.base, src.ID, modes...)
	if err != nil {
		return err
	}
	if !last.IsZero() && !last.Before(req.Slot) {
		return fmt.Errorf("%s: %w (at %s)", src.Name, errSlotTaken, last.Format(time.RFC3339))
	}
	return nil
}

// keepJobs bounds how many finished syncs' progress stays in memory.
const keepJobs = 100

func (s *Service) track(runID int64, j *job, status roster.RunStatus) {
	j.mu.Lock()
	j.p.RunID, j.p.Status = runID, status
	j.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[runID] = j
	if len(s.jobs) > keepJobs {
		for id, old := range s.jobs {
			old.mu.Lock()
			done := old.p.Done
			old.mu.Unlock()
			if done && id != runID {
				delete(s.jobs, id)
			}
		}
	}
}

// Progress returns a run's live progress, or nil for a run this process
// did not start.
func (s *Service) Progress(runID int64) *roster.RunProgress {
	s.mu.Lock()
	j := s.jobs[runID]
	s.mu.Unlock()
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	p := j.p
	return &p
}

// Cancel stops a running sync; it is recorded as cancelled and removes
// nobody. Errors: ENOTFOUND when the run is not running here.
func (s *Service) Cancel(runID int64) error {
	s.mu.Lock()
	j := s.jobs[runID]
	s.mu.Unlock()
	if j != nil {
		j.mu.Lock()
		done := j.p.Done
		j.mu.Unlock()
		if !done {
			j.cancel()
			return nil
		}
	}
	// Not here: another node sharing the database may be running it.
	if run, err := s.r.Store.Run(s.base, runID); err == nil && run.Status == roster.RunRunning {
		if holder, until, err := s.r.Store.LeaseHolder(s.base, run.SourceID); err == nil && holder != s.holder {
			return roster.Errorf(roster.ECONFLICT, "run %d is running on another roster node (%s, its lease runs until %s); cancel it on that node",
				runID, holder, until.Format(time.RFC3339))
		}
	}
	return roster.Errorf(roster.ENOTFOUND, "run %d is not running", runID)
}

// Schedule starts the syncs that the sources plan, looking every every
// (DefaultScheduleCheck when zero), until the service's base context
// ends. At every look, before anything starts (the first look is at
// once): a run that the record calls running, whose source no node holds
// or whose holder is a dead process of this machine, was cut short by a
// crash or a kill, and maybe no sync of that source follows soon to
// close it; it is marked failed. Runs that another node sharing the
// database is doing hold a lease, and are left alone. Call it once.
func (s *Service) Schedule(every time.Duration) {
	s.sched = newScheduler(s.r.Store.Sources, s.Start, s.r.Log)
	if every > 0 {
		s.sched.every = every
	}
	s.sched.sweep = func(ctx context.Context, sources []*roster.Source) {
		// A process of this machine that died frees its sources at once.
		freeDeadLeases(ctx, s.r.Store, s.r.Log, sources, s.LeaseTTL)
		if n, err := s.r.Store.AbandonRunning(ctx); err == nil && n > 0 {
			s.r.Log.Warn("runs cut short by a stopped roster node are marked failed", "runs", n)
		}
	}
	go s.sched.run(s.base, s.r.Now)
}

// NextRun is when the source's next scheduled syncs are planned.
func (s *Service) NextRun(sourceID int64) roster.NextRuns {
	if s.sched == nil {
		return roster.NextRuns{}
	}
	return s.sched.next(sourceID)
}

// Wait waits for the running syncs to stop, after base ended.
func (s *Service) Wait() { s.wg.Wait() }
