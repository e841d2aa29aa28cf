package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

func runRuns(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && args[0] == "show" {
		return runRunsShow(ctx, a, args[1:])
	}
	fs := newFlagSet(a, "runs", "[-n 20] [-json] | show ID")
	n := fs.Int("n", 20, "how many runs, newest first")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := store.open(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.Runs(ctx, 0, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(a.stdout).Encode(runs)
	}
	if len(runs) == 0 {
		fmt.Fprintln(a.stdout, "no runs yet: roster sync makes one")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tSECONDS\tMODE\tSTATUS\tSEEN\tCREATED\tUPDATED\tRENAMED\tDISABLED\tRE-ENABLED\tDELETED\tFAILED\tHELD")
	for _, r := range runs {
		secs := "-"
		if !r.FinishedAt.IsZero() {
			secs = fmt.Sprintf("%.1f", r.FinishedAt.Sub(r.StartedAt).Seconds())
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04:05"),
			secs, r.Mode, r.Status, r.Seen, r.Created, r.Updated, r.Renamed, r.Disabled, r.Reenabled, r.Deleted, r.Failed, r.Held)
	}
	return tw.Flush()
}

func runRunsShow(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "runs show", "ID [-json]")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print JSON")
	arg, err := parseOneArg(fs, args, "the run's ID, from roster runs")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return usageErrorf("%q is not a run ID", arg)
	}
	db, err := store.open(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := db.Run(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(a, r)
	}
	w := a.stdout
	fmt.Fprintf(w, "run %d: %s %s\n", r.ID, r.Mode, strings.ToUpper(string(r.Status)))
	fmt.Fprintf(w, "  started   %s\n", r.StartedAt.Local().Format("2006-01-02 15:04:05"))
	if !r.FinishedAt.IsZero() {
		fmt.Fprintf(w, "  finished  %s (%.1fs)\n", r.FinishedAt.Local().Format("2006-01-02 15:04:05"), r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	fmt.Fprintf(w, "  seen %d  created %d  updated %d  renamed %d  disabled %d  re-enabled %d  deleted %d  skipped %d  failed %d  held %d\n",
		r.Seen, r.Created, r.Updated, r.Renamed, r.Disabled, r.Reenabled, r.Deleted, r.Skipped, r.Failed, r.Held)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, ee := range r.EntryErrors {
		fmt.Fprintf(w, "  skipped entry %s: %s\n", ee.DN, ee.Message)
	}
	if r.HeldGroups > 0 || r.HeldMemberships > 0 {
		fmt.Fprintf(w, "  held group removals: %d groups and %d memberships (the notes name the groups); roster sync -approve-removals lets them go, unless the directory then has more to remove\n",
			r.HeldGroups, r.HeldMemberships)
	}
	if len(r.HeldUsers) > 0 {
		fmt.Fprintf(w, "  held removals (%d users); roster sync -approve-removals carries them out:\n", len(r.HeldUsers))
		for _, id := range r.HeldUsers {
			if u, err := db.UserByID(ctx, id); err == nil {
				fmt.Fprintf(w, "    %s  %s  %s\n", u.Login, u.Name, u.DN)
			} else {
				fmt.Fprintf(w, "    user %d\n", id)
			}
		}
	}
	return nil
}
