package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/lab/faultproxy"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/lab/storecheck"
)

// The fault-injection suite of issue 12: a proxy between roster and the
// lab's directory cuts the connection at every response boundary of a
// full and of an incremental sync, on Samba AD (LDAPS) and OpenLDAP
// (StartTLS), into SQLite and into PostgreSQL. Wherever a cut takes an
// answer roster needed, the run must fail, recorded as failed with a
// reason that names the cause, remove no user, group or membership, keep
// the incremental cursor, leave a sound store, and the next clean run
// must find nothing to create or disable.
//
// Each combination also takes one of the faults that are not cuts at a
// boundary: a cut inside a TLS record, a corrupted byte, a drip, and a
// stall longer than the request timeout.
func TestFaultsAtEveryResponseBoundary(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range []struct {
		d     labenv.Directory
		store string
		other faultproxy.Kind
	}{
		{labenv.AD, "sqlite", faultproxy.CutAtByte},
		{labenv.AD, "postgres", faultproxy.Corrupt},
		{labenv.OpenLDAP, "sqlite", faultproxy.Drip},
		{labenv.OpenLDAP, "postgres", faultproxy.Stall},
	} {
		t.Run(string(tc.d)+" "+tc.store, func(t *testing.T) {
			fl := newFaultLab(t, env, tc.d, tc.store)
			clean := map[string]*trial{}
			for _, mode := range []string{"full", "incremental"} {
				t.Run(mode, func(t *testing.T) { clean[mode] = fl.everyBoundary(t, mode) })
			}
			if clean["full"] != nil && clean["incremental"] != nil {
				t.Run(string(tc.other), func(t *testing.T) { fl.other(t, tc.other, clean["full"].rep, clean["incremental"].rep) })
			}
		})
	}
}

// other tries a fault that is not a cut at a boundary, placed from the
// clean passes: a byte fault lands in the middle of the largest answer (a
// page of users); a stall holds each request of a full and of an
// incremental sync in turn.
func (fl *faultLab) other(t *testing.T, kind faultproxy.Kind, clean, incremental faultproxy.Report) {
	big, size := 0, int64(0)
	for i := 0; i+1 < len(clean.Turns); i++ {
		if n := clean.Turns[i+1].Offset - clean.Turns[i].Offset; n > size {
			big, size = i+1, n
		}
	}
	if big == 0 {
		t.Fatalf("no answer in the clean pass: %s", clean)
	}
	middle := clean.Turns[big-1].Offset + size/2
	switch kind {
	case faultproxy.CutAtByte:
		tr := fl.try(t, "full", faultproxy.Fault{Kind: faultproxy.CutAtByte, Offset: middle})
		t.Logf("%s", tr)
		if !tr.rep.At.Record.Inside() {
			t.Errorf("the cut did not fall inside a TLS record: %s", tr.rep)
		}
		fl.assertFailedSafely(t, tr, "full", causeCut)
	case faultproxy.Corrupt:
		tr := fl.try(t, "full", faultproxy.Fault{Kind: faultproxy.Corrupt, Offset: middle})
		t.Logf("%s", tr)
		if !tr.rep.At.Record.Inside() || tr.rep.At.Record.Type != 23 {
			t.Errorf("the corrupted byte is not in an application data record: %s", tr.rep)
		}
		fl.assertFailedSafely(t, tr, "full", causeTLS)
	case faultproxy.Drip:
		tr := fl.try(t, "full", faultproxy.Fault{Kind: faultproxy.Drip, Chunk: 1024, Delay: time.Millisecond, Budget: 3 * time.Second})
		t.Logf("%s", tr)
		if !tr.rep.Fired || tr.rep.Dripped < 100*time.Millisecond {
			t.Errorf("the drip did not slow the run: %s", tr.rep)
		}
		fl.assertClean(t, tr, "full")
	case faultproxy.Stall:
		// Every request in turn, the sign-in and the reads of the
		// cursor's marks included, with a short request timeout.
		const short = time.Second
		for _, mode := range []string{"full", "incremental"} {
			pass := clean
			if mode == "incremental" {
				pass = incremental
			}
			for _, b := range pass.Turns {
				t.Run(fmt.Sprintf("at boundary %d of %d of a %s sync", b.N, len(pass.Turns), mode), func(t *testing.T) {
					tr := fl.try(t, mode, faultproxy.Fault{Kind: faultproxy.Stall, Boundary: b.N}, "-timeout", short.String(), "-connect-timeout", short.String())
					t.Logf("%s", tr)
					if !b.Answered {
						fl.assertClean(t, tr, mode)
						return
					}
					fl.assertFailedSafely(t, tr, mode, regexp.MustCompile(`within `+regexp.QuoteMeta(short.String())))
					if tr.rep.Stalled > short+time.Minute {
						t.Errorf("roster waited %v on a stalled connection, with a request timeout of %v", tr.rep.Stalled, short)
					}
				})
			}
		}
	default:
		t.Fatalf("no case for %s", kind)
	}
}

// What a failed run's reason must say for each fault: what happened to
// the connection.
var (
	// A FIN can come back as a reset: the client writes on after the
	// directory closed its side, and the kernel answers that with RST.
	causeFIN = regexp.MustCompile(`(?i)closed|hung up|EOF|ended|reset`)
	causeRST = regexp.MustCompile(`(?i)reset|hung up`)
	causeCut = regexp.MustCompile(`(?i)closed|hung up|EOF|ended|TLS`)
	causeTLS = regexp.MustCompile(`TLS`)
)

// faultLab is one directory and one store, with a baseline: a data
// folder (and, for PostgreSQL, a database) after a clean full sync and a
// clean incremental one, so there is a cursor. Each trial syncs a copy.
type faultLab struct {
	env    *labenv.Env
	d      labenv.Directory
	store  string
	target string // the directory's port, behind the proxy
	data   string // the baseline's data folder
	db     string // the baseline's database; "" for SQLite
	before *storecheck.Snapshot
}

func newFaultLab(t *testing.T, env *labenv.Env, d labenv.Directory, store string) *faultLab {
	t.Helper()
	fl := &faultLab{env: env, d: d, store: store, data: t.TempDir()}
	url := env.Get("LAB_AD_LDAPS_URL")
	if d == labenv.OpenLDAP {
		url = env.Get("LAB_OL_STARTTLS_URL")
	}
	_, fl.target, _ = strings.Cut(url, "://")
	if store == "postgres" {
		fl.db = env.PostgresDatabase(t)
	}
	for _, mode := range []string{"full", "incremental"} {
		code, out, errOut := runCLI(t, nil, fl.args(fl.data, fl.db, fl.target, mode)...)
		if code != exitOK {
			t.Fatalf("the baseline's %s sync = %d\n%s%s", mode, code, out, errOut)
		}
	}
	var err error
	if fl.before, err = fl.snapshot(fl.data, fl.db); err != nil {
		t.Fatal(err)
	}
	if len(fl.before.Users) < 1000 || len(fl.before.Groups) == 0 || len(fl.before.Members) == 0 || len(fl.before.Cursors) != 1 {
		t.Fatalf("the baseline has %d users, %d groups, %d memberships and %d cursors; want the lab's users and groups, and a cursor",
			len(fl.before.Users), len(fl.before.Groups), len(fl.before.Members), len(fl.before.Cursors))
	}
	return fl
}

// args syncs the lab directory at addr: AD over LDAPS, OpenLDAP over
// StartTLS, the certificate checked by the directory's name (the address
// is an IP). OpenLDAP's groups live beside its people: both are read.
func (fl *faultLab) args(data, db, addr, mode string, extra ...string) []string {
	args := syncArgs(fl.env, fl.d, data, "faults", "")
	for i := range args {
		if args[i] == "-address" {
			args[i+1] = addr
		}
	}
	if fl.d == labenv.AD {
		args = append(args, "-server-name", fl.env.Get("LAB_AD_SERVER_NAME"))
	} else {
		args = append(args, "-base-dn", "ou=groups,"+fl.env.Get("LAB_OL_BASE_DN"))
	}
	if db != "" {
		args = append(args, "-db", db)
	}
	if mode == "incremental" {
		args = append(args, "-incremental")
	}
	// A cut that roster failed to notice ends in a timeout, not a hang.
	args = append(args, "-timeout", "30s", "-connect-timeout", "30s")
	return append(append(args, extra...), "-json")
}

func (fl *faultLab) snapshot(data, db string) (*storecheck.Snapshot, error) {
	sdb, err := storecheck.Open(fl.location(data, db))
	if err != nil {
		return nil, err
	}
	defer sdb.Close()
	return storecheck.Take(context.Background(), sdb)
}

func (fl *faultLab) location(data, db string) string {
	if db != "" {
		return db
	}
	return filepath.Join(data, "roster.db")
}

// restore copies the baseline for a trial: the data folder's files, and
// the database from the baseline's as a template.
func (fl *faultLab) restore(t *testing.T) (data, db string) {
	t.Helper()
	data = t.TempDir()
	entries, err := os.ReadDir(fl.data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(fl.data, e.Name()), filepath.Join(data, e.Name()))
		}
	}
	if fl.db != "" {
		db = fl.env.PostgresCopy(t, fl.db)
	}
	return data, db
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err == nil {
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// trial is one sync of a copy of the baseline through a fault proxy.
type trial struct {
	data, db    string
	code        int
	out, errOut string
	rep         faultproxy.Report
	after       *storecheck.Snapshot
	loss        storecheck.Loss
	problems    []string // the store's integrity check
}

func (tr *trial) String() string {
	return fmt.Sprintf("exit %d; proxy: %s; run %d %s %s: %q; %s\nstderr: %s", tr.code, tr.rep, tr.after.Last.ID, tr.after.Last.Mode,
		tr.after.Last.Status, tr.after.Last.Error, tr.loss, strings.TrimSpace(tr.errOut))
}

func (fl *faultLab) try(t *testing.T, mode string, f faultproxy.Fault, extra ...string) *trial {
	t.Helper()
	tr := &trial{}
	tr.data, tr.db = fl.restore(t)
	p, err := faultproxy.Start(fl.target, f, faultproxy.Limits{Stall: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tr.code, tr.out, tr.errOut = runCLI(t, nil, fl.args(tr.data, tr.db, p.Addr(), mode, extra...)...)
	p.Close()
	tr.rep = p.Report()
	sdb, err := storecheck.Open(fl.location(tr.data, tr.db))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	if tr.after, err = storecheck.Take(t.Context(), sdb); err != nil {
		t.Fatal(err)
	}
	tr.loss = tr.after.Lost(fl.before)
	if tr.problems, err = storecheck.Integrity(t.Context(), sdb, true); err != nil {
		t.Fatal(err)
	}
	return tr
}

// everyBoundary counts the boundaries of a clean pass, then cuts at each
// of them and at one past the end: RST at odd boundaries, FIN at even
// ones. It returns the clean pass.
func (fl *faultLab) everyBoundary(t *testing.T, mode string) *trial {
	clean := fl.try(t, mode, faultproxy.Fault{})
	fl.assertClean(t, clean, mode)
	n := clean.rep.Boundaries
	if n < 3 || len(clean.rep.Turns) != n {
		t.Fatalf("a clean pass had %d boundaries: %s", n, clean.rep)
	}
	t.Logf("a clean %s pass: %s", mode, clean.rep)
	for b := 1; b <= n+1; b++ {
		kind, cause := faultproxy.CutRST, causeRST
		if b%2 == 0 {
			kind, cause = faultproxy.CutFIN, causeFIN
		}
		t.Run(fmt.Sprintf("%s at boundary %d of %d", kind, b, n), func(t *testing.T) {
			tr := fl.try(t, mode, faultproxy.Fault{Kind: kind, Boundary: b})
			t.Logf("boundary answered in the clean pass: %v; %s", b <= n && clean.rep.Turns[b-1].Answered, tr)
			switch {
			case b > n:
				if tr.rep.Fired {
					t.Errorf("a fault past the end fired: %s", tr.rep)
				}
				fl.assertClean(t, tr, mode)
			case !tr.rep.Fired:
				t.Errorf("the fault did not fire, though a clean pass had %d boundaries: %s", n, tr.rep)
			case !clean.rep.Turns[b-1].Answered:
				// The client's goodbye (unbind, TLS close_notify): the
				// run had read everything.
				fl.assertClean(t, tr, mode)
			default:
				fl.assertFailedSafely(t, tr, mode, cause)
			}
		})
	}
	return clean
}

// assertFailedSafely checks a run that lost an answer it needed.
func (fl *faultLab) assertFailedSafely(t *testing.T, tr *trial, mode string, cause *regexp.Regexp) {
	t.Helper()
	if !tr.rep.Fired {
		t.Errorf("the fault did not fire: %s", tr.rep)
		return
	}
	last := tr.after.Last
	if tr.code != exitFailure {
		t.Errorf("exit status %d, want %d: %s", tr.code, exitFailure, tr)
	}
	if last.ID <= fl.before.Last.ID || last.Status != "failed" {
		t.Errorf("the run is not recorded as failed: %s", tr)
	} else if !cause.MatchString(last.Error) {
		t.Errorf("the run's reason does not name the cause (%s): %s", cause, tr)
	}
	if tr.loss.UsersDisabled+tr.loss.UsersDeleted > 0 {
		t.Errorf("users removed: %s", tr)
	}
	if tr.loss.GroupsLost+tr.loss.MembershipsLost > 0 {
		t.Errorf("groups or memberships removed: %s", tr)
	}
	if tr.loss.CursorChanged {
		t.Errorf("the cursor changed: %s", tr)
	}
	fl.assertSoundAndNextClean(t, tr, mode)
}

// assertClean checks a run that the fault left whole: it succeeded,
// found nothing to do, and left a sound store.
func (fl *faultLab) assertClean(t *testing.T, tr *trial, mode string) {
	t.Helper()
	var r runJSON
	if tr.code != exitOK || json.Unmarshal([]byte(tr.out), &r) != nil || r.Run.Status != "succeeded" {
		t.Errorf("the run did not succeed: %s", tr)
	} else if r.Run.Created+r.Run.Disabled+r.Run.Deleted > 0 || mode == "full" && r.Run.Seen < len(fl.before.Users) {
		t.Errorf("a clean run over the baseline: %s; want nothing created or removed", counts(r.Run))
	}
	if tr.loss.UsersDisabled+tr.loss.UsersDeleted+tr.loss.GroupsLost+tr.loss.MembershipsLost > 0 {
		t.Errorf("a successful run removed: %s", tr)
	}
	// The run was a clean run itself: no need for another.
	if len(tr.problems) > 0 {
		t.Errorf("the store's integrity check failed: %s", strings.Join(tr.problems, "; "))
	}
}

// assertSoundAndNextClean checks the store's integrity, then syncs the
// trial's copy again without the proxy: nothing to create or disable.
func (fl *faultLab) assertSoundAndNextClean(t *testing.T, tr *trial, mode string) {
	t.Helper()
	if len(tr.problems) > 0 {
		t.Errorf("the store's integrity check failed: %s", strings.Join(tr.problems, "; "))
	}
	code, out, errOut := runCLI(t, nil, fl.args(tr.data, tr.db, fl.target, mode)...)
	var r runJSON
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil {
		t.Errorf("the next clean run = %d\n%s%s", code, out, errOut)
	} else if r.Run.Created != 0 || r.Run.Disabled != 0 || r.Run.Deleted != 0 {
		t.Errorf("the next clean run: %s; want nothing created or removed", counts(r.Run))
	}
}
