package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlstore"
)

// runMigrate brings a user base's schema up to date, or, with -from,
// moves a whole user base (SQLite, say) into a new, empty one
// (PostgreSQL, say) with all its history.
func runMigrate(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "migrate", "[-db postgres://...|FILE] [-from FILE|postgres://...] [-data DIR]")
	data := fs.String("data", "", dataHelp)
	dbf := fs.String("db", "", dbHelp+"; with -from, the destination, which must be empty")
	from := fs.String("from", "", "copy everything from this user base (an SQLite file, or a postgres:// URL) into the -db one")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir := dataDir(a, *data, "")
	db, err := openStore(ctx, a, *dbf, dir)
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
	if same(*from, storeLocation(a, *dbf, dir)) {
		return usageErrorf("-from and -db name the same user base")
	}
	var src *sqlstore.DB
	if postgres.IsDSN(*from) {
		src, err = postgres.Open(ctx, *from)
	} else {
		src, err = openExisting(*from)
	}
	if err != nil {
		return err
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
		"secret.key", "print-code.key", dir)
	fmt.Fprintf(a.stdout, "  - keep %s until the new store has served a full sync; roster no longer writes to it\n", src)
	return nil
}

// openExisting opens an SQLite user base that must exist already: a typo
// in -from must not create an empty file and copy nothing.
func openExisting(path string) (*sqlstore.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usageErrorf("-from %s: %v", path, err)
	}
	return openSQLite(path)
}

// same reports whether two store locations name the same thing, for a
// file by its absolute path.
func same(a, b string) bool {
	if postgres.IsDSN(a) || postgres.IsDSN(b) {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
