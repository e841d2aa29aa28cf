package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
)

// runPrintCodes gives every enabled user of a source without a print code
// a new one, and prints them this once as CSV (login, name, email, code)
// for a mail merge: roster keeps only their keyed hashes.
func runPrintCodes(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "print-codes", "-source NAME [-length 6] > codes.csv")
	source := fs.String("source", "", "the source whose users get codes (its name in roster)")
	length := fs.Int("length", roster.DefaultPrintCodeLength, fmt.Sprintf("digits per code, %d to %d", roster.MinPrintCodeLength, roster.MaxPrintCodeLength))
	store := addStoreFlags(fs, "", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *source == "" {
		return usageErrorf("give the -source whose users get print codes")
	}
	if *length < roster.MinPrintCodeLength || *length > roster.MaxPrintCodeLength {
		return usageErrorf("-length must be between %d and %d", roster.MinPrintCodeLength, roster.MaxPrintCodeLength)
	}
	db, place, err := store.openPlace(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	hash, err := datadir.PrintCodeHasher(place.Dir, true)
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
	var unshown error // the output's failure, which the codes of a batch met
	// Each batch is printed as soon as it is set: a code set and never
	// shown would have to be made again. Output that fails stops the run.
	skipped, err := roster.AssignFirstPrintCodes(ctx, db, hash, users, *length, func(batch []roster.IssuedPrintCode) error {
		for _, c := range batch {
			w.Write([]string{spreadsheetSafe(c.User.Login), spreadsheetSafe(c.User.Name), spreadsheetSafe(c.User.Email), c.Code})
		}
		if w.Flush(); w.Error() != nil {
			unshown = errCodesNotShown(batch, w.Error(), set)
			return unshown
		}
		set += len(batch)
		return nil
	})
	switch {
	case unshown != nil:
		return unshown
	case err != nil:
		return fmt.Errorf("%d print codes were set and printed above; then: %w", set, err)
	}
	a.log.Info("print codes set", "source", *source, "set", set, "skipped", len(skipped))
	fmt.Fprintf(a.stderr, "roster print-codes: %d users of %s got a print code; users who had one kept it. The codes are printed this once.\n", set, *source)
	return nil
}

// errCodesNotShown says which users got a code that could not be
// printed: each needs a new one, by hand (a bulk run passes over them now).
func errCodesNotShown(batch []roster.IssuedPrintCode, err error, before int) error {
	if len(batch) == 1 {
		return fmt.Errorf("the code of %s was set but could not be written (%v); give that user a new code: roster stopped after %d codes", batch[0].User.Login, err, before)
	}
	logins := make([]string, len(batch))
	for i, c := range batch {
		logins[i] = c.User.Login
	}
	return fmt.Errorf("the codes of %d users were set but could not be written (%v); give each a new code: roster stopped after %d codes. They are: %s",
		len(batch), err, before, strings.Join(logins, ", "))
}

// spreadsheetSafe keeps a spreadsheet from reading a directory value as a
// formula when the CSV is opened (a name that starts with "=").
func spreadsheetSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
