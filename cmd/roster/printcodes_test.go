package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/sqlite"
)

// roster print-codes gives codes to the enabled users of a source who have
// none, prints them once as CSV, and leaves everyone else alone.
func TestPrintCodesForASource(t *testing.T) {
	data := t.TempDir()
	db, err := sqlite.Open(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	corp, _ := db.SourceID(ctx, "corp")
	other, _ := db.SourceID(ctx, "other")
	mk := func(login string, disabled bool, hash string) roster.Change {
		return roster.Change{Kind: roster.Create, User: &roster.User{Anchor: login, DN: "CN=" + login, Login: login,
			Name: "=HYPERLINK(\"x\") " + login, Disabled: disabled, PrintCodeHash: hash}}
	}
	if _, err := db.Apply(ctx, corp, []roster.Change{mk("ann", false, ""), mk("ben", false, "kept"), mk("cat", true, ""), mk("dan", false, "")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Apply(ctx, other, []roster.Change{mk("eve", false, "")}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, errOut := runCLI(t, nil, "print-codes", "-data", data, "-source", "corp", "-length", "8")
	if code != exitOK || !strings.Contains(errOut, "2 users of corp got a print code") {
		t.Fatalf("print-codes = %d\n%s\n%s", code, out, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "login,name,email,code" {
		t.Fatalf("CSV: %q, %v", out, err)
	}
	hash, err := datadir.PrintCodeHasher(data, false)
	if err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, want := range []string{"ann", "dan"} {
		row := rows[i+1]
		if row[0] != want || !strings.HasPrefix(row[1], "'=") || len(row[3]) != 8 || roster.TrivialPrintCode(row[3]) {
			t.Errorf("row %d = %q; want %s, a name that no spreadsheet takes for a formula, and 8 digits", i+1, row, want)
		}
		if users, _ := db.UsersByPrintCodeHash(ctx, hash(row[3])); len(users) != 1 || users[0].Login != want {
			t.Errorf("%s's printed code finds %v", want, users)
		}
	}
	for login, want := range map[string]string{"ben": "kept", "cat": "", "eve": ""} {
		if u, _ := db.UserByLogin(ctx, login); u.PrintCodeHash != want {
			t.Errorf("%s's code hash = %q, want %q", login, u.PrintCodeHash, want)
		}
	}

	if code, _, errOut := runCLI(t, nil, "print-codes", "-data", data, "-source", "nope"); code != exitFailure || !strings.Contains(errOut, "nope") {
		t.Errorf("an unknown source = %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, nil, "print-codes", "-data", data, "-source", "corp", "-length", "3"); code != exitUsage {
		t.Errorf("-length 3 = %d, want a usage error", code)
	}
}

// failAfter is an output that takes its first n writes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("no space left on device")
	}
	f.n--
	return len(p), nil
}

// Codes set whose output fails are named, so that the admin can give
// those users new codes: a second bulk run passes over them.
func TestPrintCodesNameTheUsersWhoseCodesWereNotPrinted(t *testing.T) {
	data := t.TempDir()
	db, err := sqlite.Open(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	corp, _ := db.SourceID(ctx, "corp")
	var changes []roster.Change
	for _, login := range []string{"ann", "dan"} {
		changes = append(changes, roster.Change{Kind: roster.Create, User: &roster.User{Anchor: login, DN: "CN=" + login, Login: login}})
	}
	if _, err := db.Apply(ctx, corp, changes); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var stderr bytes.Buffer
	code := run(ctx, []string{"print-codes", "-data", data, "-source", "corp"}, &failAfter{n: 1}, &stderr, func(string) string { return "" })
	if code != exitFailure || !strings.Contains(stderr.String(), "the codes of 2 users were set but could not be written (no space left on device)") ||
		!strings.Contains(stderr.String(), "They are: ann, dan") {
		t.Fatalf("print-codes into a full disk = %d\n%s", code, stderr.String())
	}
	db, err = sqlite.Open(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if without, _ := db.UsersWithoutPrintCode(ctx, corp); len(without) != 0 {
		t.Fatalf("%d users without a code; the message says both have one", len(without))
	}
}
