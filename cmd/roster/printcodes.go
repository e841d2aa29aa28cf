package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/rosterhq/roster"
)

// runPrintCodes gives every enabled user of a source without a print code
// a new one, and prints them this once as CSV (login, name, email, code)
// for a mail merge: roster keeps only their keyed hashes.
func runPrintCodes(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "print-codes", "-source NAME [-length 6] > codes.csv")
	source := fs.String("source", "", "the source whose users get codes (its name in roster)")
	length := fs.Int("length", roster.DefaultPrintCodeLength, fmt.Sprintf("digits per code, %d to %d", roster.MinPrintCodeLength, roster.MaxPrintCodeLength))
	data := fs.String("data", "", dataHelp)
	dbf := fs.String("db", "", dbHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *source == "" {
		return usageErrorf("give the -source whose users get print codes")
	}
	if *length < roster.MinPrintCodeLength || *length > roster.MaxPrintCodeLength {
		return usageErrorf("-length must be between %d and %d", roster.MinPrintCodeLength, roster.MaxPrintCodeLength)
	}
	dir := dataDir(a, *data, "")
	db, err := openStore(ctx, a, *dbf, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	hash, err := printCodeHasher(dir, true)
	if err != nil {
		return err
	}
	id, err := db.LookupSourceID(ctx, *source)
	if err != nil {
		return err
	}
	users, err := db.UsersWithoutPrintCode(ctx, id)
	if err != nil {
		return err
	}
	w := csv.NewWriter(a.stdout)
	w.Write([]string{"login", "name", "email", "code"})
	if w.Flush(); w.Error() != nil {
		return fmt.Errorf("cannot write the codes, so none was set: %w", w.Error())
	}
	set := 0
	for _, u := range users {
		// Written as soon as it is set: a code set and never shown would
		// have to be made again. Output that fails stops the run.
		code, err := roster.AssignFirstPrintCode(ctx, db, hash, u.ID, *length)
		if err != nil {
			return fmt.Errorf("%d print codes were set and printed above; then: %w", set, err)
		}
		if code == "" {
			continue // given a code meanwhile
		}
		w.Write([]string{spreadsheetSafe(u.Login), spreadsheetSafe(u.Name), spreadsheetSafe(u.Email), code})
		if w.Flush(); w.Error() != nil {
			return fmt.Errorf("the code of %s was set but could not be written (%v); give that user a new code: roster stopped after %d codes", u.Login, w.Error(), set)
		}
		set++
	}
	a.log.Info("print codes set", "source", *source, "set", set)
	fmt.Fprintf(a.stderr, "roster print-codes: %d users of %s got a print code; users who had one kept it. The codes are printed this once.\n", set, *source)
	return nil
}

// spreadsheetSafe keeps a spreadsheet from reading a directory value as a
// formula when the CSV is opened (a name that starts with "=").
func spreadsheetSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
