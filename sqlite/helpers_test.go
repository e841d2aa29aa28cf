package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

// t0 is the fixed clock of every test database.
var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// open returns a new database in a temporary file, its path, and the
// source "corp" in it.
func open(t testing.TB) (db *sqlstore.DB, path string, source int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "roster.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return t0 }
	source, err = db.SourceID(context.Background(), "corp")
	if err != nil {
		t.Fatalf("SourceID: %v", err)
	}
	return db, path, source
}

// raw opens a second, plain connection to the file, to look at what the
// DB wrote without going through it.
func raw(t testing.TB, path string) *sql.DB {
	t.Helper()
	r, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	r.SetMaxOpenConns(1)
	t.Cleanup(func() { r.Close() })
	return r
}

func count(t testing.TB, r *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := r.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// newUser returns a directory user as the engine would create it.
func newUser(login string, cards ...string) *roster.User {
	u := &roster.User{
		Anchor: "anchor-" + login,
		DN:     "CN=" + login + ",OU=Staff,DC=corp,DC=test",
		Login:  login,
		Name:   "User " + login,
		Email:  login + "@corp.test",
	}
	for i, c := range cards {
		kind := roster.CardSecondary
		if i == 0 {
			kind = roster.CardPrimary
		}
		u.Cards = append(u.Cards, roster.Card{Number: c, Kind: kind, Origin: roster.CardFromDirectory})
	}
	return u
}

// create stores users through Apply and returns them with their IDs.
func create(t testing.TB, db *sqlstore.DB, source int64, users ...*roster.User) []*roster.User {
	t.Helper()
	var changes []reconcile.Change
	for _, u := range users {
		changes = append(changes, reconcile.Change{Kind: reconcile.Create, Login: u.Login, DN: u.DN, User: u})
	}
	if err := db.Apply(context.Background(), source, changes); err != nil {
		t.Fatalf("Apply create: %v", err)
	}
	return users
}

// stored reads back the user with this anchor.
func stored(t testing.TB, db *sqlstore.DB, source int64, anchor string) *roster.User {
	t.Helper()
	m, err := db.UsersByAnchor(context.Background(), source, []string{anchor})
	if err != nil {
		t.Fatalf("UsersByAnchor: %v", err)
	}
	return m[anchor]
}

// numbers lists the card numbers of u with their origin, in order.
func numbers(u *roster.User) []string {
	var out []string
	for _, c := range u.Cards {
		out = append(out, c.Number+"/"+string(c.Origin))
	}
	return out
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := roster.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}
