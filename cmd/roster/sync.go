package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/runner"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/userbase"
)

// exitHeld is sync's status when removals wait for approval: distinct
// from success (0), a failed run (1) and a usage error (2), so that
// schedulers and scripts can alert on it.
const exitHeld = 3

// errHeld makes sync exit with exitHeld after its summary.
var errHeld = errors.New("removals held for approval")

func runSync(ctx context.Context, a *app, args []string) error {
	var sf sourceFlags
	fs := newFlagSet(a, "sync", "[-config FILE [-source NAME]] | [-address ... source flags] [-dry-run] [-incremental] [-json] [-approve-removals]")
	sf.register(fs)
	configPath := fs.String("config", "", "configuration file (JSON) listing the sources; without it, the source flags describe one source")
	only := fs.String("source", "", "with -config: sync only this source; alone: sync the source of this name set up in the console (roster serve)")
	name := fs.String("name", "", "without -config: the source's name in roster (default: the domain)")
	store := storeFlags{fs.String("data", "", dataHelpWithConfig), fs.String("db", "", dbHelp)}
	dryRun := fs.Bool("dry-run", false, "print the plan and write nothing")
	asJSON := fs.Bool("json", false, "print the plan or the run as JSON")
	approve := fs.Bool("approve-removals", false, "carry out the removals the last run held for approval")
	incremental := fs.Bool("incremental", false, "read only what changed since the last successful run (AD: uSNChanged, OpenLDAP: entryCSN); removes only the users the directory reports deleted, even when it must read every entry")
	disabled := fs.String("disabled-users", "keep", "accounts disabled in the directory: keep (as disabled users) or skip")
	removal := fs.String("removal", "disable", "users who leave the directory: disable, or delete after -grace")
	grace := fs.Duration("grace", 30*24*time.Hour, "with -removal delete: how long a user stays disabled before deletion")
	runTimeout := fs.Duration("run-timeout", roster.DefaultRunTimeout, "time allowed for the whole run; a run still reading then fails and removes nobody")
	loginFormat := fs.String("login-format", "", "login attribute: sAMAccountName, userPrincipalName, mail or uid (default: the type's preset)")
	var cardSteps listFlag
	fs.Var(&cardSteps, "card-step", "a card transform step, op or op=arg, applied in order to every card value (repeat; see roster help card)")
	if err := parse(fs, args); err != nil {
		return err
	}

	var sources []*roster.Source
	var configData string
	// -source alone names a source stored in the data folder, set up in
	// the console: cron and scripts can sync what the console configured.
	fromStore := *configPath == "" && *only != "" && sf.address == ""
	if fromStore {
		stray := []string{}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "source", "data", "db", "dry-run", "json", "approve-removals", "incremental":
			default:
				stray = append(stray, "-"+f.Name)
			}
		})
		if len(stray) > 0 {
			return usageErrorf("%s cannot be combined with a stored -source; change the source in the console", strings.Join(stray, ", "))
		}
	} else if *configPath != "" {
		// The configuration describes its sources fully: a source flag
		// beside it would be silently ignored, so it is refused.
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "config", "source", "data", "db", "dry-run", "json", "approve-removals", "incremental":
			default:
				stray = append(stray, "-"+f.Name)
			}
		})
		if len(stray) > 0 {
			return usageErrorf("%s cannot be combined with -config; set it in the configuration file", strings.Join(stray, ", "))
		}
		cfg, err := loadConfig(a, *configPath)
		if err != nil {
			return err
		}
		configData = cfg.DataDir
		for i := range cfg.Sources {
			if *only != "" && cfg.Sources[i].Name != *only {
				continue
			}
			src, err := cfg.Sources[i].source(a)
			if err != nil {
				return err
			}
			sources = append(sources, src)
		}
		if len(sources) == 0 {
			return usageErrorf("the configuration has no source named %q", *only)
		}
	} else {
		set := sf.settings()
		set.Name, set.RunTimeout, set.DisabledUsers = *name, roster.Duration(*runTimeout), *disabled
		if set.Name == "" {
			set.Name = strings.ToLower(set.Domain)
		}
		if set.Name == "" {
			return usageErrorf("give the source a -name")
		}
		// The grace goes in whatever the action's spelling: Source reads
		// the action without regard to case, and ignores the grace for
		// disable.
		set.Removal.Action, set.Removal.Grace = *removal, roster.Duration(*grace)
		set.Mapping.Login = roster.LoginFormat(*loginFormat)
		var err error
		if set.Mapping.CardTransforms, err = parseCardSteps(cardSteps, "card-step"); err != nil {
			return err
		}
		src, err := sf.sourceWith(a, set)
		if err != nil {
			return err
		}
		sources = []*roster.Source{src}
	}

	place, err := store.place(a, configData)
	if err != nil {
		return err
	}
	place.CacheKiB = userbase.SyncCacheKiB
	budget, restore := memoryBudget(a, place)
	defer restore()
	dir := place.Dir
	var db *sqlstore.DB
	if *dryRun {
		db, err = place.OpenToRead(ctx)
	} else {
		db, err = place.Open(ctx)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if !*dryRun {
		// One lock for the whole run, as for one source: a sync of roster
		// serve must not slip in between two sources of a configuration.
		release, err := datadir.Lock(dir)
		if errors.Is(err, datadir.ErrLocked) {
			return usageErrorf("another roster sync is running on the data folder %s; wait for it to finish", dir)
		}
		if err != nil {
			return err
		}
		defer release()
	}
	hash, err := datadir.PrintCodeHasher(dir, !*dryRun)
	if err != nil {
		return err
	}
	if fromStore {
		src, err := storedSource(ctx, a, db, dir, *only)
		if err != nil {
			return err
		}
		sources = append(sources, src)
	}

	var failed, held bool
	for _, src := range sources {
		err := syncOne(ctx, a, &runner.Runner{Store: db, Hash: hash, Now: a.now, Log: a.log, Memory: budget, CPUs: syncCPUs(a)}, src, reconcile.Options{DryRun: *dryRun, ApproveRemovals: *approve, Incremental: *incremental}, *asJSON)
		switch {
		case errors.Is(err, errHeld):
			held = true
		case errors.Is(err, errUsage):
			return err
		case err != nil:
			failed = true
			fmt.Fprintf(a.stderr, "roster sync: %s: %s\n", src.Name, message(err))
		}
	}
	switch {
	case failed:
		return errRulesFailed // each failure is already reported
	case held:
		return errHeld
	}
	return nil
}

// storedSource reads the source of this name set up in the console
// (roster serve), its bind password unsealed with the data folder's key.
func storedSource(ctx context.Context, a *app, db *sqlstore.DB, dir, name string) (*roster.Source, error) {
	var err error
	if db.Sealer, err = secretSealer(a, dir); err != nil {
		return nil, err
	}
	id, err := db.LookupSourceID(ctx, name)
	if err == nil {
		var src *roster.Source
		if src, err = db.Source(ctx, id); err == nil {
			return src, nil
		}
	}
	if roster.ErrorCode(err) == roster.ENOTFOUND { // unknown, or synced only from a configuration file
		return nil, usageErrorf("no source named %s is set up in the user base (%s); set it up in the console, or give -config or the source flags", name, db)
	}
	return nil, err
}

// syncOne syncs one source from the command line (runner.SyncAlone),
// under the data folder's lock that runSync holds, and prints the run.
func syncOne(ctx context.Context, a *app, r *runner.Runner, src *roster.Source, opt reconcile.Options, asJSON bool) error {
	url, _ := src.URL()
	var spool *planSpool
	if opt.DryRun {
		var err error
		if spool, err = newPlanSpool(); err != nil {
			a.log.Warn("no temporary file for the dry run's plan (TMPDIR chooses its folder): the plan is kept in memory", "err", err)
		}
		defer spool.close()
		opt.Plan = spool.add
	}
	prog := newProgress(a, src.Name)
	res, runErr := r.SyncAlone(ctx, src, opt, runner.Hooks{Progress: prog.update})
	prog.done()
	if res == nil {
		return runErr
	}
	if asJSON {
		if err := printRunJSON(a, src.Name, opt.DryRun, res, spool); err != nil {
			return errors.Join(runErr, err)
		}
	} else {
		var planErr error
		if opt.DryRun {
			planErr = printPlan(a, res, spool)
		}
		printRunSummary(a, src, url, res.Run)
		if planErr != nil {
			return errors.Join(runErr, planErr)
		}
		if res.Run.Held > 0 && !opt.DryRun {
			printHeld(a, res.Held)
			if more := res.Run.Held - len(res.Held); more > 0 {
				fmt.Fprintf(a.stdout, "  and %d more held removals: roster runs show %d lists them all\n", more, res.Run.ID)
			}
		}
	}
	if runErr != nil {
		return runErr
	}
	if res.Run.Status == roster.RunHeld {
		return errHeld
	}
	return nil
}

func printRunSummary(a *app, src *roster.Source, url string, r *roster.Run) {
	w := a.stdout
	what := "run " + fmt.Sprint(r.ID)
	if r.Mode == roster.RunPreview {
		what = "dry run (nothing written)"
	}
	fmt.Fprintf(w, "%s: %s of %s at %s: %s in %.1fs\n", src.Name, what, src.Type.Label(), url, strings.ToUpper(string(r.Status)),
		r.FinishedAt.Sub(r.StartedAt).Seconds())
	fmt.Fprintf(w, "  seen %d  created %d  updated %d  renamed %d  disabled %d  re-enabled %d  deleted %d  skipped %d  failed %d",
		r.Seen, r.Created, r.Updated, r.Renamed, r.Disabled, r.Reenabled, r.Deleted, r.Skipped, r.Failed)
	if r.Held > 0 {
		fmt.Fprintf(w, "  held %d", r.Held)
	}
	fmt.Fprintln(w)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for i, ee := range r.EntryErrors {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more bad entries (roster runs show %d)\n", r.Failed-20, r.ID)
			break
		}
		fmt.Fprintf(w, "  skipped entry %s: %s\n", ee.DN, ee.Message)
	}
}

// printPlan prints a dry run's plan: counts, then the changes by kind,
// read back from the spool.
func printPlan(a *app, res *reconcile.Result, spool *planSpool) error {
	kinds := []roster.Kind{roster.Create, roster.Update, roster.Rename, roster.Disable, roster.Reenable, roster.Delete}
	fmt.Fprintln(a.stdout, "PLAN (dry run: nothing is written)")
	for _, k := range kinds {
		fmt.Fprintf(a.stdout, "  %-9s %d\n", k, spool.counts[k])
	}
	for _, k := range kinds {
		if n := spool.counts[k]; n > 0 {
			t := changeTable{a: a, kind: len(k), login: spool.logins[k]}
			if err := t.print(string(k), n, func(fn func(roster.Change) error) error { return spool.each(k, fn) }); err != nil {
				return err
			}
		}
	}
	switch held := res.Run.Held; {
	case held > len(res.Held):
		fmt.Fprintf(a.stdout, "  (%d removals would be held for approval: the first %d are listed above)\n", held, len(res.Held))
	case held > 0:
		fmt.Fprintf(a.stdout, "  (%d of these removals would be held for approval)\n", held)
	}
	return nil
}

// printHeld prints a run's held removals that it kept whole.
func printHeld(a *app, held []roster.Change) {
	t := changeTable{a: a}
	for _, ch := range held {
		t.kind, t.login = max(t.kind, len(ch.Kind)), max(t.login, utf8.RuneCountInString(ch.Login))
	}
	t.print("held removals", len(held), func(fn func(roster.Change) error) error {
		for _, ch := range held {
			fn(ch)
		}
		return nil
	})
}

// changeTable prints changes as a table whose columns are as wide as the
// widest kind and login, known beforehand, so that a plan of any size
// prints a line at a time: kind, login, then what changes.
type changeTable struct {
	a           *app
	kind, login int // the widest, in characters
}

func (t changeTable) print(title string, n int, each func(func(roster.Change) error) error) error {
	w := bufio.NewWriter(t.a.stdout)
	fmt.Fprintf(w, "%s (%d):\n", strings.ToUpper(title[:1])+title[1:], n)
	err := each(func(ch roster.Change) error {
		detail := ch.Reason
		switch ch.Kind {
		case roster.Create:
			detail = ch.User.Name + "  " + ch.DN
		case roster.Rename:
			if ch.OldLogin != "" {
				detail = ch.OldLogin + " -> " + ch.Login
			}
		}
		t.line(w, string(ch.Kind), ch.Login, detail)
		if ch.Kind != roster.Create {
			for _, f := range ch.Fields {
				t.line(w, "", "", fmt.Sprintf("%s: %q -> %q", f.Field, f.Before, f.After))
			}
		}
		return nil
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// line writes one line of the table, each column padded with spaces to
// its width and two more.
func (t changeTable) line(w *bufio.Writer, kind, login, detail string) {
	w.WriteString("  ")
	w.WriteString(kind)
	w.WriteString(strings.Repeat(" ", max(0, t.kind-len(kind))+2))
	w.WriteString(login)
	w.WriteString(strings.Repeat(" ", max(0, t.login-utf8.RuneCountInString(login))+2))
	w.WriteString(detail)
	w.WriteByte('\n')
}

// printRunJSON prints a run as JSON: the source, whether it was a dry
// run, the run, a dry run's changes (streamed from the spool) and the
// first held removals.
func printRunJSON(a *app, source string, dryRun bool, res *reconcile.Result, spool *planSpool) error {
	head, err := json.MarshalIndent(struct {
		Source string      `json:"source"`
		DryRun bool        `json:"dry_run"`
		Run    *roster.Run `json:"run"`
	}{source, dryRun, res.Run}, "", "  ")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(a.stdout)
	w.Write(bytes.TrimSuffix(head, []byte("\n}")))
	if spool != nil && spool.len() > 0 {
		w.WriteString(",\n  \"changes\": [")
		sep := "\n    "
		err := spool.each("", func(ch roster.Change) error {
			b, err := json.MarshalIndent(ch, "    ", "  ")
			w.WriteString(sep)
			w.Write(b)
			sep = ",\n    "
			return err
		})
		if err != nil {
			return err
		}
		w.WriteString("\n  ]")
	}
	if len(res.Held) > 0 {
		b, err := json.MarshalIndent(res.Held, "  ", "  ")
		if err != nil {
			return err
		}
		w.WriteString(",\n  \"held\": ")
		w.Write(b)
	}
	w.WriteString("\n}\n")
	return w.Flush()
}

// progress shows a run's phase, entries seen and rate on a terminal, at
// most twice a second; elsewhere it stays quiet (logs say enough).
type progress struct {
	a     *app
	name  string
	tty   bool
	last  time.Time
	shown bool
}

func newProgress(a *app, name string) *progress {
	p := &progress{a: a, name: name}
	if f, ok := a.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(pr reconcile.Progress) {
	if !p.tty || p.a.now().Sub(p.last) < 500*time.Millisecond {
		return
	}
	p.last = p.a.now()
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Seen) / s
	}
	fmt.Fprintf(p.a.stderr, "\r%s: %-8s %8d entries  %7.0f/s  %5.1fs ", p.name, pr.Phase, pr.Seen, rate, pr.Elapsed.Seconds())
	p.shown = true
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.a.stderr, "\r\033[K")
	}
}
