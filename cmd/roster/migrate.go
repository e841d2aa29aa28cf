package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/rosterhq/roster/sqlstore"
)

// runMigrate brings a user base's schema up to date, or, with -from,
// moves a whole user base (SQLite, say) into a new, empty one
// (PostgreSQL, say) with all its history.
func runMigrate(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "migrate", "[-db postgres://...|FILE] [-from FILE|postgres://...] [-data DIR]")
	store := addStoreFlags(fs, "", "; with -from, the destination, which must be empty")
	from := fs.String("from", "", "copy everything from this user base (an SQLite file, or a postgres:// URL) into the -db one")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, place, err := store.openPlace(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	steps, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	if *from == "" {
		fmt.Fprintf(a.stdout, "%s: schema up to date (%d steps, the last %s)\n", db, len(steps), steps[len(steps)-1])
		return nil
	}
	src, err := place.OpenOther(ctx, *from)
	if err != nil {
		return usage(err)
	}
	defer src.Close()
	stats, err := sqlstore.Copy(ctx, db, src)
	if err != nil {
		return err
	}
	tables := make([]string, 0, len(stats))
	for t := range stats {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	fmt.Fprintf(a.stdout, "copied %s into %s:\n", src, db)
	for _, t := range tables {
		fmt.Fprintf(a.stdout, "  %-18s %d\n", t, stats[t])
	}
	a.log.Info("user base copied", "from", src.String(), "to", db.String(), "users", stats["users"], "runs", stats["runs"])
	fmt.Fprintf(a.stdout, "\nnext:\n")
	fmt.Fprintf(a.stdout, "  - start every roster serve with -db (or ROSTER_DB) naming %s\n", db)
	fmt.Fprintf(a.stdout, "  - give every node the same %s and %s as %s: stored passwords and print codes need them\n",
		"secret.key", "print-code.key", place.Dir)
	fmt.Fprintf(a.stdout, "  - keep %s until the new store has served a full sync; roster no longer writes to it\n", src)
	return nil
}
