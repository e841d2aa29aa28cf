// Command faultcampaign is the program behind bench/faults: a seeded
// random campaign of network faults (through lab/faultproxy) and SIGKILLs
// against roster sync, on the lab's Samba AD and OpenLDAP (LDAPS and
// StartTLS), into SQLite and PostgreSQL, full and incremental. It prints
// a table by fault mode. Run it through bench/faults, which brings the
// lab up, puts its facts in the environment and builds roster.
//
// Each trial syncs a copy of a baseline (a clean full sync, then a clean
// incremental one) through a fault, then checks the store against the
// baseline, runs its integrity checks, and syncs again without the fault:
// the lab does not change, so nothing may be removed, and the next run
// must create and disable nobody. Trial N of a seed draws its choices from
// its own generator: -trial N replays it alone.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/lab/faultproxy"
	"github.com/rosterhq/roster/lab/storecheck"
)

// The fault modes, in the table's order.
var modes = []string{"fin", "rst", "cut-byte", "stall", "drip", "corrupt", "sigkill"}

// What a failed run's reason must say for each mode.
var causes = map[string]*regexp.Regexp{
	"fin":      regexp.MustCompile(`(?i)closed|hung up|EOF|ended`),
	"rst":      regexp.MustCompile(`(?i)reset|hung up`),
	"cut-byte": regexp.MustCompile(`(?i)closed|hung up|EOF|ended|TLS`),
	"stall":    regexp.MustCompile(`within ` + regexp.QuoteMeta(stallTimeout.String())),
	"corrupt":  regexp.MustCompile(`TLS`),
}

// stallTimeout is roster's request and connect timeout in stall trials.
const stallTimeout = 3 * time.Second

// runLimit bounds each roster process.
const runLimit = 3 * time.Minute

func main() {
	seed := flag.Uint64("seed", 1, "the campaign's seed")
	trials := flag.Int("trials", 100, "how many trials")
	only := flag.Int("trial", -1, "replay only this trial of the seed's campaign (from 0)")
	budget := flag.Duration("budget", 45*time.Minute, "start no trial after this much time")
	rosterBin := flag.String("roster", "bin/roster", "the roster program")
	verbose := flag.Bool("v", false, "print each trial's details")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := newCampaign(ctx, *rosterBin, *seed, *verbose)
	if err == nil {
		err = c.run(ctx, *trials, *only, *budget)
	}
	if c != nil {
		c.close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/faults:", err)
		os.Exit(1)
	}
}

// campaign holds the lab's facts, the baselines and the clean passes.
type campaign struct {
	roster  string
	seed    uint64
	verbose bool
	work    string   // temporary folder
	dbs     []string // PostgreSQL databases to drop at the end
	pgDSN   string
	n       int // databases made, for names

	baselines map[string]*baseline  // by directory and store
	clean     map[string]*cleanPass // by directory, TLS mode and sync mode
	results   map[string][]outcome  // by fault mode
	began     time.Time
}

type baseline struct {
	dir, store string
	data, db   string
	before     *storecheck.Snapshot
}

type cleanPass struct {
	rep  faultproxy.Report
	took time.Duration
}

// outcome is one trial's result.
type outcome struct {
	trial        int
	what         string // the trial, in words
	failed       bool   // the run failed (for sigkill: the killed run is recorded failed)
	expected     bool   // it ended as it should
	usersRemoved int
	groupsLost   int // groups and memberships
	cursorMoved  bool
	integrity    []string
	nextClean    bool
	startAfter   time.Duration // sigkill: from the kill to the next sync's start
	refused      bool          // sigkill: the next sync was refused
	detail       string
}

func newCampaign(ctx context.Context, rosterBin string, seed uint64, verbose bool) (*campaign, error) {
	for _, k := range []string{"LAB_AD_LDAPS_URL", "LAB_OL_STARTTLS_URL", "LAB_PG_DSN", "LAB_BIND_PASSWORD_FILE", "LAB_CA_FILE"} {
		if os.Getenv(k) == "" {
			return nil, fmt.Errorf("%s is not set: run through bench/faults, which sets the lab's facts (eval \"$(lab/lab env)\")", k)
		}
	}
	bin, err := filepath.Abs(rosterBin)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "roster-faults-")
	if err != nil {
		return nil, err
	}
	return &campaign{roster: bin, seed: seed, verbose: verbose, work: work, pgDSN: os.Getenv("LAB_PG_DSN"),
		baselines: map[string]*baseline{}, clean: map[string]*cleanPass{}, results: map[string][]outcome{}, began: time.Now()}, nil
}

func (c *campaign) close() {
	for _, db := range c.dbs {
		c.pgExec("DROP DATABASE IF EXISTS " + pgx.Identifier{db}.Sanitize() + " WITH (FORCE)")
	}
	os.RemoveAll(c.work)
}

// pgExec runs one statement on a connection of its own (CREATE and DROP
// DATABASE cannot run in a transaction).
func (c *campaign) pgExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.pgDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// newDatabase creates a database, a copy of template unless it is "",
// and returns its URL.
func (c *campaign) newDatabase(template string) (string, error) {
	c.n++
	name := fmt.Sprintf("roster_faults_%d_%d", os.Getpid(), c.n)
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err := c.pgExec(q); err != nil {
		return "", fmt.Errorf("creating a database in the lab's PostgreSQL: %v", err)
	}
	c.dbs = append(c.dbs, name)
	u, err := url.Parse(c.pgDSN)
	if err != nil {
		return "", errors.New("LAB_PG_DSN is not a URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (c *campaign) dropDatabase(dsn string) {
	u, err := url.Parse(dsn)
	if err != nil || len(u.Path) < 2 {
		return
	}
	name := u.Path[1:]
	if c.pgExec("DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") == nil {
		c.dbs = slices.DeleteFunc(c.dbs, func(s string) bool { return s == name })
	}
}

// target is the directory's address for a TLS mode.
func target(dir, tls string) string {
	key := map[string]string{"AD ldaps": "LAB_AD_LDAPS_URL", "AD starttls": "LAB_AD_STARTTLS_URL",
		"OL ldaps": "LAB_OL_LDAPS_URL", "OL starttls": "LAB_OL_STARTTLS_URL"}[dir+" "+tls]
	_, hostport, _ := strings.Cut(os.Getenv(key), "://")
	return hostport
}

// args syncs dir at addr in a TLS mode, the certificate checked by the
// directory's name; OpenLDAP's groups beside its people are read too.
func args(dir, tls, addr, data, db, mode string, extra ...string) []string {
	a := []string{"sync", "-data", data, "-name", "faults", "-address", addr, "-tls", tls,
		"-password-file", os.Getenv("LAB_BIND_PASSWORD_FILE"), "-ca", os.Getenv("LAB_CA_FILE"),
		"-timeout", "30s", "-connect-timeout", "30s", "-json"}
	if dir == "AD" {
		a = append(a, "-type", "entra-ds", "-domain", os.Getenv("LAB_AD_DOMAIN"), "-login", "svc-print",
			"-server-name", os.Getenv("LAB_AD_SERVER_NAME"))
	} else {
		a = append(a, "-type", "openldap", "-domain", os.Getenv("LAB_OL_DOMAIN"), "-login", os.Getenv("LAB_OL_BIND_USER"),
			"-base-dn", os.Getenv("LAB_OL_USERS_DN"), "-base-dn", "ou=groups,"+os.Getenv("LAB_OL_BASE_DN"),
			"-server-name", os.Getenv("LAB_OL_SERVER_NAME"))
	}
	if db != "" {
		a = append(a, "-db", db) // moved into the environment by command
	}
	if mode == "incremental" {
		a = append(a, "-incremental")
	}
	return append(a, extra...) // later flags win
}

// result is what roster sync -json printed.
type result struct {
	Run runResult `json:"run"`
}

type runResult struct {
	Status                           string
	Seen, Created, Disabled, Deleted int
	Error                            string
}

type ran struct {
	code        int
	out, errOut string
	res         result
	parsed      bool
}

func (r ran) String() string {
	if !r.parsed {
		return fmt.Sprintf("exit %d: %s", r.code, lastLine(r.errOut))
	}
	run := r.res.Run
	return fmt.Sprintf("exit %d, %s, seen %d created %d disabled %d deleted %d %q", r.code, run.Status, run.Seen,
		run.Created, run.Disabled, run.Deleted, run.Error)
}

func (r ran) clean() bool {
	return r.code == 0 && r.parsed && r.res.Run.Status == "succeeded" && r.res.Run.Created == 0 && r.res.Run.Disabled == 0 && r.res.Run.Deleted == 0
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// command is roster with args, the -db URL (password and all) moved from
// the command line, which ps shows every user, into ROSTER_DB.
func (c *campaign) command(ctx context.Context, a []string) *exec.Cmd {
	env := os.Environ()
	var args []string
	for i := 0; i < len(a); i++ {
		if a[i] == "-db" && i+1 < len(a) {
			env = append(env, "ROSTER_DB="+a[i+1])
			i++
			continue
		}
		args = append(args, a[i])
	}
	cmd := exec.CommandContext(ctx, c.roster, args...)
	cmd.Env = env
	return cmd
}

// sync runs roster once, bounded by runLimit.
func (c *campaign) sync(ctx context.Context, a []string) ran {
	ctx, cancel := context.WithTimeout(ctx, runLimit)
	defer cancel()
	cmd := c.command(ctx, a)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := ran{out: out.String(), errOut: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.errOut += err.Error()
	}
	r.parsed = json.Unmarshal([]byte(r.out), &r.res) == nil
	return r
}

// baseline returns the baseline of a directory and a store, made on
// first use: a clean full sync, then a clean incremental one.
func (c *campaign) baseline(ctx context.Context, dir, store string) (*baseline, error) {
	key := dir + " " + store
	if b := c.baselines[key]; b != nil {
		return b, nil
	}
	b := &baseline{dir: dir, store: store, data: filepath.Join(c.work, "base-"+dir+"-"+store)}
	if store == "postgres" {
		var err error
		if b.db, err = c.newDatabase(""); err != nil {
			return nil, err
		}
	}
	tls := map[string]string{"AD": "ldaps", "OL": "starttls"}[dir]
	for _, mode := range []string{"full", "incremental"} {
		if r := c.sync(ctx, args(dir, tls, target(dir, tls), b.data, b.db, mode)); r.code != 0 || r.res.Run.Status != "succeeded" {
			return nil, fmt.Errorf("the baseline's %s sync of %s: %s", mode, key, r)
		}
	}
	sdb, err := storecheck.Open(location(b.data, b.db))
	if err != nil {
		return nil, err
	}
	defer sdb.Close()
	if b.before, err = storecheck.Take(ctx, sdb); err != nil {
		return nil, err
	}
	if len(b.before.Groups) == 0 || len(b.before.Members) == 0 || len(b.before.Cursors) != 1 {
		return nil, fmt.Errorf("the baseline of %s has %d groups, %d memberships and %d cursors", key, len(b.before.Groups), len(b.before.Members), len(b.before.Cursors))
	}
	c.baselines[key] = b
	return b, nil
}

func location(data, db string) string {
	if db != "" {
		return db
	}
	return filepath.Join(data, "roster.db")
}

// restore copies a baseline for a trial.
func (c *campaign) restore(b *baseline, trial int) (data, db string, err error) {
	data = filepath.Join(c.work, fmt.Sprintf("trial-%d", trial))
	if err := os.MkdirAll(data, 0o700); err != nil {
		return "", "", err
	}
	entries, err := os.ReadDir(b.data)
	if err != nil {
		return "", "", err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := copyFile(filepath.Join(b.data, e.Name()), filepath.Join(data, e.Name())); err != nil {
				return "", "", err
			}
		}
	}
	if b.db != "" {
		u, _ := url.Parse(b.db)
		if db, err = c.newDatabase(u.Path[1:]); err != nil {
			return "", "", err
		}
	}
	return data, db, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// cleanPass counts the boundaries and bytes of a clean sync through the
// proxy, once per directory, TLS mode and sync mode.
func (c *campaign) cleanPass(ctx context.Context, b *baseline, tls, mode string) (*cleanPass, error) {
	key := b.dir + " " + tls + " " + mode
	if cp := c.clean[key]; cp != nil {
		return cp, nil
	}
	data, db, err := c.restore(b, -1)
	if err != nil {
		return nil, err
	}
	defer c.discard(data, db)
	p, err := faultproxy.Start(target(b.dir, tls), faultproxy.Fault{}, faultproxy.Limits{})
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	r := c.sync(ctx, args(b.dir, tls, p.Addr(), data, db, mode))
	took := time.Since(begin)
	p.Close()
	if !r.clean() {
		return nil, fmt.Errorf("a clean %s pass of %s: %s", mode, key, r)
	}
	cp := &cleanPass{rep: p.Report(), took: took}
	if cp.rep.Boundaries < 3 {
		return nil, fmt.Errorf("a clean %s pass of %s had %d boundaries", mode, key, cp.rep.Boundaries)
	}
	c.clean[key] = cp
	return cp, nil
}

func (c *campaign) discard(data, db string) {
	os.RemoveAll(data)
	if db != "" {
		c.dropDatabase(db)
	}
}

func (c *campaign) run(ctx context.Context, trials, only int, budget time.Duration) error {
	// The modes take turns in an order of the seed's, so each gets its
	// share; everything else is drawn per trial.
	order := slices.Clone(modes)
	rand.New(rand.NewPCG(c.seed, 0)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	done, stopped := 0, false
	for i := 0; i < trials; i++ {
		if only >= 0 && i != only {
			continue
		}
		if ctx.Err() != nil || time.Since(c.began) > budget {
			stopped = true
			break
		}
		o, err := c.trial(ctx, i, order[i%len(order)])
		if err != nil {
			if ctx.Err() != nil {
				stopped = true
				break
			}
			return fmt.Errorf("trial %d: %w", i, err)
		}
		c.results[order[i%len(order)]] = append(c.results[order[i%len(order)]], o)
		done++
		mark := "ok"
		if !o.ok() {
			mark = "UNEXPECTED"
		}
		fmt.Fprintf(os.Stderr, "trial %d of %d: %s: %s\n", i, trials, o.what, mark)
		if c.verbose || !o.ok() {
			fmt.Fprintf(os.Stderr, "    %s\n", o.detail)
		}
	}
	c.print(done, stopped)
	return nil
}

// ok: the trial ended as it should and lost nothing.
func (o outcome) ok() bool {
	return o.expected && o.usersRemoved == 0 && o.groupsLost == 0 && len(o.integrity) == 0 && o.nextClean
}

// trial runs trial i, a fault of the given mode.
func (c *campaign) trial(ctx context.Context, i int, mode string) (outcome, error) {
	rng := rand.New(rand.NewPCG(c.seed, uint64(i)+1))
	dir := []string{"AD", "OL"}[rng.IntN(2)]
	store := []string{"sqlite", "postgres"}[rng.IntN(2)]
	tls := []string{"ldaps", "starttls"}[rng.IntN(2)]
	syncMode := []string{"full", "incremental"}[rng.IntN(2)]
	o := outcome{trial: i}
	b, err := c.baseline(ctx, dir, store)
	if err != nil {
		return o, err
	}
	cp, err := c.cleanPass(ctx, b, tls, syncMode)
	if err != nil {
		return o, err
	}
	data, db, err := c.restore(b, i)
	if err != nil {
		return o, err
	}
	defer c.discard(data, db)
	where := fmt.Sprintf("%s %s into %s, %s", dir, tls, store, syncMode)
	if mode == "sigkill" {
		return c.kill(ctx, o, rng, b, cp, tls, syncMode, data, db, where)
	}

	// Place the fault.
	rep := cp.rep
	var f faultproxy.Fault
	var extra []string
	expectFail := true
	switch mode {
	case "fin", "rst", "stall":
		f = faultproxy.Fault{Kind: map[string]faultproxy.Kind{"fin": faultproxy.CutFIN, "rst": faultproxy.CutRST, "stall": faultproxy.Stall}[mode],
			Boundary: 1 + rng.IntN(rep.Boundaries)}
		expectFail = rep.Turns[f.Boundary-1].Answered
		if mode == "stall" {
			extra = []string{"-timeout", stallTimeout.String(), "-connect-timeout", stallTimeout.String()}
		}
		o.what = fmt.Sprintf("%s at boundary %d of %d, %s", mode, f.Boundary, rep.Boundaries, where)
	case "cut-byte", "corrupt":
		// After the TLS handshake (the server's first TLS flight ends at
		// boundary 1 for LDAPS, 2 for StartTLS), before the client's
		// goodbye.
		from := rep.Turns[0].Offset
		if tls == "starttls" {
			from = rep.Turns[1].Offset
		}
		to := rep.ServerBytes
		if last := rep.Turns[len(rep.Turns)-1]; !last.Answered {
			to = last.Offset
		}
		f = faultproxy.Fault{Kind: faultproxy.CutAtByte, Offset: from + rng.Int64N(max(to-from, 1))}
		if mode == "corrupt" {
			f.Kind = faultproxy.Corrupt
		}
		o.what = fmt.Sprintf("%s at byte %d of %d, %s", mode, f.Offset, rep.ServerBytes, where)
	case "drip":
		f = faultproxy.Fault{Kind: faultproxy.Drip, Chunk: 256 << rng.IntN(5), Delay: time.Millisecond, Budget: 2 * time.Second}
		expectFail = false
		o.what = fmt.Sprintf("drip %d bytes a millisecond, %s", f.Chunk, where)
	}

	p, err := faultproxy.Start(target(dir, tls), f, faultproxy.Limits{Stall: 2 * time.Minute})
	if err != nil {
		return o, err
	}
	r := c.sync(ctx, args(dir, tls, p.Addr(), data, db, syncMode, extra...))
	p.Close()
	frep := p.Report()
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	after, problems, runs, err := c.check(ctx, b, data, db)
	if err != nil {
		return o, err
	}
	c.judge(&o, b, after, problems)
	var last storecheck.Run
	if len(runs) > 0 {
		last = runs[len(runs)-1]
	}
	o.failed = r.code == 1 && last.Status == "failed"
	// A run that read everything moves the cursor, as it should.
	o.cursorMoved = o.cursorMoved && expectFail
	if expectFail {
		o.expected = o.failed && causes[mode].MatchString(last.Error) && !o.cursorMoved
	} else {
		o.expected = r.clean()
	}
	next := c.sync(ctx, args(dir, tls, target(dir, tls), data, db, syncMode))
	o.nextClean = next.clean()
	o.detail = fmt.Sprintf("expected to fail: %v; run: %s; recorded: %s %q; proxy: %s; lost: %s; integrity: %q; next run: %s",
		expectFail, r, last.Status, last.Error, frep, after.Lost(b.before), problems, next)
	return o, nil
}

// check reads a trial's store after its run: a snapshot, the integrity
// check, and the runs recorded since the baseline.
func (c *campaign) check(ctx context.Context, b *baseline, data, db string) (*storecheck.Snapshot, []string, []storecheck.Run, error) {
	sdb, err := storecheck.Open(location(data, db))
	if err != nil {
		return nil, nil, nil, err
	}
	defer sdb.Close()
	after, err := storecheck.Take(ctx, sdb)
	if err != nil {
		return nil, nil, nil, err
	}
	problems, err := storecheck.Integrity(ctx, sdb, true)
	if err != nil {
		return nil, nil, nil, err
	}
	runs, err := storecheck.RunsAfter(ctx, sdb, b.before.Last.ID)
	return after, problems, runs, err
}

// judge fills what a trial lost against its baseline. The lab does not
// change: any removal is a wrong one.
func (c *campaign) judge(o *outcome, b *baseline, after *storecheck.Snapshot, problems []string) {
	l := after.Lost(b.before)
	o.usersRemoved = l.UsersDisabled + l.UsersDeleted
	o.groupsLost = l.GroupsLost + l.MembershipsLost
	o.cursorMoved = l.CursorChanged
	o.integrity = problems
}

// kill starts a sync, SIGKILLs it at a random moment of a clean run's
// span after it logged its start, and starts the next sync at once: it
// must start without being refused for the killed one's lease, succeed
// and find nothing to do; the killed run must not stay running.
func (c *campaign) kill(ctx context.Context, o outcome, rng *rand.Rand, b *baseline, cp *cleanPass, tls, syncMode, data, db, where string) (outcome, error) {
	at := time.Duration(rng.Int64N(int64(cp.took)))
	o.what = fmt.Sprintf("sigkill %v after the start of a %v run, %s", at.Round(time.Millisecond), cp.took.Round(time.Millisecond), where)
	a := args(b.dir, tls, target(b.dir, tls), data, db, syncMode)
	cmd := c.command(context.Background(), a) // ended by the kill below
	cmd.Env = append(cmd.Env, "ROSTER_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return o, err
	}
	if err := cmd.Start(); err != nil {
		return o, err
	}
	started := make(chan struct{})
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for j := 0; j < 100_000 && sc.Scan(); j++ { // bounded, like every loop here
			if strings.Contains(sc.Text(), "sync started") {
				close(started)
				break
			}
		}
		io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	var killedAt time.Time
	select {
	case <-started:
	case <-time.After(runLimit):
	case <-ctx.Done():
	}
	select {
	case <-time.After(at):
		killedAt = time.Now()
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	case err := <-exited:
		killedAt = time.Now() // it ended first: the next sync follows at once all the same
		o.detail = fmt.Sprintf("the sync ended (%v) before the kill; ", err)
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		return o, ctx.Err()
	}

	// The next sync, at once; its log says when it started.
	nctx, cancel := context.WithTimeout(ctx, runLimit)
	defer cancel()
	next := c.command(nctx, a)
	next.Env = append(next.Env, "ROSTER_LOG_LEVEL=info")
	var out strings.Builder
	next.Stdout = &out
	nextErr, err := next.StderrPipe()
	if err != nil {
		return o, err
	}
	if err := next.Start(); err != nil {
		return o, err
	}
	var errOut strings.Builder
	sc := bufio.NewScanner(nextErr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for j := 0; j < 100_000 && sc.Scan(); j++ { // bounded, like every loop here
		line := sc.Text()
		errOut.WriteString(line + "\n")
		if o.startAfter == 0 && strings.Contains(line, "sync started") {
			o.startAfter = time.Since(killedAt)
		}
	}
	werr := next.Wait()
	r := ran{out: out.String(), errOut: errOut.String()}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		r.code = ee.ExitCode()
	} else if werr != nil {
		r.code = -1
	}
	r.parsed = json.Unmarshal([]byte(r.out), &r.res) == nil
	o.refused = strings.Contains(r.errOut, "being synced")
	if ctx.Err() != nil {
		return o, ctx.Err()
	}

	after, problems, runs, err := c.check(ctx, b, data, db)
	if err != nil {
		return o, err
	}
	c.judge(&o, b, after, problems)
	// The killed run, when it got as far as recording one, is the first
	// after the baseline; the next sync's is the last.
	killed := storecheck.Run{Status: "none recorded"}
	if len(runs) > 1 {
		killed = runs[0]
	}
	o.failed = killed.Status == "failed"
	o.expected = !o.refused && o.startAfter > 0 && killed.Status != "running" && r.code == 0
	o.nextClean = r.clean()
	// A killed incremental run keeps the cursor, the next one moves it:
	// a moved cursor is no loss here.
	o.cursorMoved = false
	o.detail += fmt.Sprintf("killed run: %s %q; next sync started %v after the kill: %s; lost: %s; integrity: %q",
		killed.Status, killed.Error, o.startAfter.Round(time.Millisecond), r, after.Lost(b.before), problems)
	return o, nil
}

func (c *campaign) print(done int, stopped bool) {
	took := time.Since(c.began).Round(time.Second)
	fmt.Printf("bench/faults: seed %d, %d trials in %v: Samba AD and OpenLDAP over LDAPS and StartTLS, SQLite and PostgreSQL, full and incremental\n", c.seed, done, took)
	if stopped {
		fmt.Println("(stopped early: the time budget ran out or the campaign was interrupted)")
	}
	w := tabwriter.NewWriter(os.Stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "mode\ttrials\tfailed\tas expected\tusers removed\tgroups/members lost\tcursor moved\tintegrity failures\tnext run clean\t")
	var totals [8]int
	for _, m := range modes {
		var n [8]int
		for _, o := range c.results[m] {
			n[0]++
			n[1] += b2i(o.failed)
			n[2] += b2i(o.expected)
			n[3] += o.usersRemoved
			n[4] += o.groupsLost
			n[5] += b2i(o.cursorMoved)
			n[6] += b2i(len(o.integrity) > 0)
			n[7] += b2i(o.nextClean)
		}
		for i := range n {
			totals[i] += n[i]
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t\n", m, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[0])
	}
	fmt.Fprintf(w, "total\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t\n", totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], totals[6], totals[7], totals[0])
	w.Flush()
	fmt.Println("failed: the run failed (sigkill: the killed run is recorded failed). as expected: failed with a reason that names the cause")
	fmt.Println("where the fault took an answer the run needed, the cursor kept; otherwise (a drip, the client's goodbye) a clean success;")
	fmt.Println("sigkill: the next sync started at once, succeeded, and the killed run is not left running.")
	var starts []time.Duration
	refused := 0
	for _, o := range c.results["sigkill"] {
		if o.startAfter > 0 {
			starts = append(starts, o.startAfter)
		}
		refused += b2i(o.refused)
	}
	if len(c.results["sigkill"]) > 0 {
		slices.Sort(starts)
		med, most := time.Duration(0), time.Duration(0)
		if len(starts) > 0 {
			med, most = starts[len(starts)/2], starts[len(starts)-1]
		}
		fmt.Printf("sigkill: the next sync started %v after the kill (median), %v at most; refused %d times of %d\n",
			med.Round(time.Millisecond), most.Round(time.Millisecond), refused, len(c.results["sigkill"]))
	}
	var bad []outcome
	for _, m := range modes {
		for _, o := range c.results[m] {
			if !o.ok() {
				bad = append(bad, o)
			}
		}
	}
	if len(bad) > 0 {
		fmt.Printf("%d trials did not end as they should (replay one with -seed %d -trial N):\n", len(bad), c.seed)
		for j, o := range bad {
			if j == 20 {
				fmt.Printf("  ... and %d more\n", len(bad)-20)
				break
			}
			fmt.Printf("  trial %d: %s\n    %s\n", o.trial, o.what, o.detail)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
