package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// runLockouts lists the stored lockouts, or clears one: the way back in
// for an admin whose name a guesser keeps locked, and for a user whose
// print code or password is locked at terminals. The guessing budgets of
// terminals and client addresses live in the memory of each roster serve
// node: GET /api/v1/lockouts shows and DELETE clears them.
func runLockouts(ctx context.Context, a *app, args []string) error {
	const use = "use: roster lockouts [-data DIR] | roster lockouts clear [-data DIR] KEY"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(a.stdout, use)
		return nil
	}
	clear := len(args) > 0 && args[0] == "clear"
	if clear {
		args = args[1:]
	} else if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	// The key may come before the flags or after them.
	var key string
	if clear && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		key, args = args[0], args[1:]
	}
	fs := newFlagSet(a, "lockouts", "[clear KEY] [-data DIR]")
	store := addStoreFlags(fs, "", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if key == "" && fs.NArg() == 1 {
		key = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageErrorf("%s", use)
	}
	if clear != (key != "") {
		return usageErrorf("%s", use)
	}
	db, err := store.open(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	if clear {
		ok, err := db.ClearLockout(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("nothing is counted under %q; roster lockouts lists what is", key)
		}
		a.log.Info("lockout cleared", "key", key, "by", "roster lockouts clear")
		fmt.Fprintf(a.stdout, "cleared %s: it may be tried again at once\n", key)
		return nil
	}
	ls, err := db.Lockouts(ctx, 1000)
	if err != nil {
		return err
	}
	if len(ls) == 0 {
		fmt.Fprintln(a.stdout, "no failures are counted: nothing is locked")
		return nil
	}
	now := a.now()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tWHO\tSTATE\tLAST FAILURE")
	for _, l := range ls {
		state := fmt.Sprintf("%d failures counted", l.Failures)
		if w := l.Wait(now); w > 0 {
			state = fmt.Sprintf("locked %s more (lock %d in a row)", w.Round(time.Second), l.Trips)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Key, l.Subject, state, l.LastFailure.Local().Format("2006-01-02 15:04:05"))
	}
	tw.Flush()
	fmt.Fprintln(a.stdout, "clear one with: roster lockouts clear KEY")
	return nil
}
