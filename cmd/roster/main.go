// Command roster keeps a print server's user base in step with Active
// Directory, Entra Domain Services or OpenLDAP, read over secure LDAP.
//
// This file holds the command table; each command lives in its own file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/runner"
)

// Exit statuses, the same for every command.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and something failed
	exitUsage   = 2 // the command line is wrong
)

// command is one subcommand. run returns an error; errUsage-wrapped
// errors exit with status 2, everything else with 1.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

// app is what every command gets: its output streams, its environment,
// its logger and its clock. Tests build one with buffers instead of the
// real ones.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	now            func() time.Time
}

var errUsage = errors.New("usage")

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func commands() []command {
	return []command{
		{"connect", "connect to a directory over LDAPS or StartTLS, sign in, and count the users roster would see", runConnect},
		{"source", "roster source move NAME -to-type entra-id ...: move an Entra DS source's users onto Entra ID, keeping their cards and print codes", runSource},
		{"doctor", "walk the chain to a directory (DNS, TCP, TLS, certificate, sign-in, reads; or Entra ID's token and permissions) and stop at the first failure, with its fix", runDoctor},
		{"sync", "synchronise the user base with the directory (-dry-run prints the plan)", runSync},
		{"runs", "list the sync runs, or show one: roster runs show ID", runRuns},
		{"users", "list and search the user base, or show one: roster users show LOGIN", runUsers},
		{"serve", "serve the web console and the REST API on 127.0.0.1:8080", runServe},
		{"migrate", "update the user base's schema, or move it: roster migrate -from roster.db -db postgres://...", runMigrate},
		{"admin", "roster admin reset-password: a new password for a console admin who lost it", runAdmin},
		{"backup", "write a backup file while roster runs: the user base and its keys, sealed under a passphrase: roster backup FILE", runBackup},
		{"restore", "make a new data folder (or fill an empty PostgreSQL) from a backup file; never overwrites: roster restore FILE", runRestore},
		{"lockouts", "list the sign-ins locked after wrong tries (admin names, users' codes and passwords at terminals), or clear one: roster lockouts clear KEY", runLockouts},
		{"cert", "make, check and probe secure LDAP certificates: roster cert new | check | probe", runCert},
		{"print-codes", "give every enabled user of a source without a print code a new one, printed once as CSV", runPrintCodes},
		{"card", "the card test bench: roster card test -step hex-to-dec -step pad=10 VALUE shows each step's output", runCard},
		{"version", "print roster's version", runVersion},
		{"help", "list the commands, or explain one: roster help COMMAND", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// ROSTER_CPU_PROFILE=FILE writes a CPU profile, and
	// ROSTER_ALLOC_PROFILE=FILE the allocations of the whole run, for go
	// tool pprof (-sample_index=alloc_space).
	var cpu *os.File
	if path := os.Getenv("ROSTER_CPU_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			if err = pprof.StartCPUProfile(f); err == nil {
				cpu = f
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "roster: no CPU profile (ROSTER_CPU_PROFILE): %v\n", err)
		}
	}
	allocs := os.Getenv("ROSTER_ALLOC_PROFILE")
	if allocs != "" {
		runtime.MemProfileRate = 64 << 10
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if cpu != nil {
		pprof.StopCPUProfile()
		cpu.Close()
	}
	if allocs != "" {
		f, err := os.Create(allocs)
		if err == nil {
			err = errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "roster: no allocation profile (ROSTER_ALLOC_PROFILE): %v\n", err)
		}
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, log: newLogger(stderr, getenv("ROSTER_LOG_LEVEL")), now: time.Now}
	if len(args) == 0 {
		printHelp(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" {
		name = "help"
	}
	// roster serve's sync processes run a command that help does not list.
	all := append(commands(), command{runner.WorkerCommand, "one sync in a process of its own, started by roster serve", runSyncWorker})
	for _, c := range all {
		if c.name != name {
			continue
		}
		err := c.run(ctx, a, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errRulesFailed):
			return exitFailure // the report already says what failed
		case errors.Is(err, errHeld):
			return exitHeld
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "roster %s: %s\n", name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
			return exitUsage
		default:
			// The admin reads the message; the debug log keeps the
			// underlying cause (go-ldap's text, the x509 error).
			fmt.Fprintf(stderr, "roster %s: %s\n", name, message(err))
			a.log.Debug("command failed", "command", name, "err", err, "cause", cause(err))
			return exitFailure
		}
	}
	fmt.Fprintf(stderr, "roster: unknown command %q\n\n", name)
	printHelp(stderr)
	return exitUsage
}

// message is what the admin sees for an error: the roster.Error message
// when there is one, the error text otherwise (flag and file errors).
func message(err error) string {
	var e *roster.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// cause returns the error beneath roster's admin message, if any.
func cause(err error) string {
	var e *roster.Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "roster keeps a print server's users in step with Active Directory, Entra Domain Services or OpenLDAP.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: roster COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run roster COMMAND -h for the flags of a command.")
}

// parseFlags parses flags and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErrorf("%v", err)
	}
	return nil
}

func runHelp(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		printHelp(a.stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] && c.name != "help" {
			return c.run(ctx, a, []string{"-h"})
		}
	}
	return usageErrorf("no command %q; roster help lists them", args[0])
}

// newFlagSet returns a flag set that writes its usage to the app's
// stderr and reports errors instead of exiting.
func newFlagSet(a *app, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: roster %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turns a flag error into a usage error, and refuses
// positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// printJSON writes v to the command's output as indented JSON, as every
// command's -json does.
func printJSON(a *app, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
