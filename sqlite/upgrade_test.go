package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// olderBase returns a user base at the schema before step 014, with
// foreign keys on as roster opens it, on one connection, which the
// upgrade's step (run with the keys off) shares with every other query:
// the connection must come back with its keys on.
func olderBase(t *testing.T) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roster.db")
	r, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	r.SetMaxOpenConns(1)
	t.Cleanup(func() { r.Close() })
	db := sqlstore.New(r, sqlite.Dialect, path)
	if err := db.Migrate(context.Background(), storetest.StepsBefore(t, sqlite.Migrations(), "014_unique_indexes.sql")); err != nil {
		t.Fatal(err)
	}
	const at = "'2025-03-01T08:00:00.000000000Z'"
	for _, q := range []string{
		`INSERT INTO sources (id, name, created_at) VALUES (1, 'corp', ` + at + `)`,
		`INSERT INTO users (id, source_id, anchor, dn, dn_key, login, print_code_hash, disabled, disabled_reason, extra, created_at, updated_at, fingerprint) VALUES
			(7, 1, 'a-7', 'CN=Ann', 'cn=ann', 'ann', 'h-ann', 0, '', '{"title":["Dr"]}', ` + at + `, ` + at + `, -5),
			(9, 1, 'a-9', 'CN=Bob', 'cn=bob', 'bob', '', 1, 'missing', NULL, ` + at + `, ` + at + `, 42)`,
		`INSERT INTO users (id, login, created_at, updated_at) VALUES (12, 'guest', ` + at + `, ` + at + `)`,
		`INSERT INTO cards (id, user_id, number, kind, origin) VALUES
			(3, 7, '1001', 'primary', 'directory'), (4, 7, '1002', 'secondary', 'directory'),
			(5, 12, '5001', '', 'manual'), (8, 9, '2001', 'primary', 'directory')`,
		`INSERT INTO user_aliases (id, user_id, login) VALUES (2, 9, 'robert')`,
		// A first sync killed before its build left an index away.
		`DROP INDEX users_dn_key`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db, r
}

// rowsOf returns every row of query, each as its values joined by "|".
func rowsOf(t *testing.T, r *sql.DB, query string) []string {
	t.Helper()
	rows, err := r.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			parts = append(parts, fmt.Sprintf("%v", v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUniqueIndexesUpgrade: schema step 014 makes the users and cards
// tables again, their unique rules now indexes of their own; every row
// keeps its ID and values, no card or former login is lost to the old
// table's drop, the rules and keys still hold, and the connection's keys
// are on again.
func TestUniqueIndexesUpgrade(t *testing.T) {
	db, r := olderBase(t)
	queries := []string{
		`SELECT * FROM users ORDER BY id`,
		`SELECT * FROM cards ORDER BY id`,
		`SELECT * FROM user_aliases ORDER BY id`,
	}
	var before [][]string
	for _, q := range queries {
		before = append(before, rowsOf(t, r, q))
	}
	if err := db.Migrate(context.Background(), sqlite.Migrations()); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	for i, q := range queries {
		if after := rowsOf(t, r, q); !slices.Equal(after, before[i]) {
			t.Errorf("%s\nbefore: %q\nafter:  %q", q, before[i], after)
		}
	}
	got := rowsOf(t, r, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('users', 'cards') ORDER BY name`)
	want := []string{"cards_number", "cards_user", "users_dn_key", "users_login_source", "users_print_code", "users_source", "users_source_anchor"}
	if !slices.Equal(got, want) {
		t.Errorf("indexes of users and cards: %q, want %q (none of SQLite's own)", got, want)
	}
	if on := rowsOf(t, r, `PRAGMA foreign_keys`); !slices.Equal(on, []string{"1"}) {
		t.Errorf("after the upgrade the connection's foreign keys are %q, want on (1)", on)
	}
	at := "'2025-03-02T08:00:00.000000000Z'"
	for _, q := range []string{
		`INSERT INTO users (source_id, anchor, login, created_at, updated_at) VALUES (1, 'a-7', 'twin', ` + at + `, ` + at + `)`,
		`INSERT INTO cards (user_id, number, origin) VALUES (9, '1001', 'directory')`,
		`INSERT INTO cards (user_id, number, origin) VALUES (99, '7777', 'directory')`,
	} {
		if _, err := r.Exec(q); err == nil {
			t.Errorf("after the upgrade, %s was taken", q)
		}
	}
	if _, err := r.Exec(`DELETE FROM users WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM cards WHERE user_id = 7`); n != 0 {
		t.Errorf("ann deleted after the upgrade: %d of her cards stay, want them gone with her", n)
	}
}

// A row whose parent was missing before the upgrade (written with the
// keys off, by hand) does not stop it: the step copies it as it was.
func TestUniqueIndexesUpgradeKeepsARowBrokenBefore(t *testing.T) {
	db, r := olderBase(t)
	for _, q := range []string{`PRAGMA foreign_keys = OFF`,
		`INSERT INTO cards (id, user_id, number, origin) VALUES (20, 404, '4040', 'directory')`,
		`PRAGMA foreign_keys = ON`} {
		if _, err := r.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(context.Background(), sqlite.Migrations()); err != nil {
		t.Fatalf("upgrade with a card of a missing user from before: %v", err)
	}
	if got := rowsOf(t, r, `SELECT id, user_id, number FROM cards WHERE id = 20`); !slices.Equal(got, []string{"20|404|4040"}) {
		t.Errorf("the card broken before the upgrade: %q", got)
	}
}

// A step run with the keys off that leaves a row without its parent is
// rolled back, naming the row: nothing changes, and the step is not
// recorded.
func TestAKeysOffStepThatBreaksAKeyIsRolledBack(t *testing.T) {
	db, r := olderBase(t)
	steps := storetest.StepsBefore(t, sqlite.Migrations(), "014_unique_indexes.sql").(fstest.MapFS)
	steps["014_breaks.sql"] = &fstest.MapFile{Data: []byte("-- roster: foreign keys off\r\nDELETE FROM users WHERE id = 7;\n")}
	err := db.Migrate(context.Background(), steps)
	if err == nil || !strings.Contains(err.Error(), "014_breaks.sql") || !strings.Contains(err.Error(), "cards row 3 names a missing users") {
		t.Fatalf("a step that leaves ann's cards without her: %v; want it refused, naming the step and a card", err)
	}
	if got := rowsOf(t, r, `SELECT name FROM migrations WHERE name = '014_breaks.sql'`); len(got) != 0 {
		t.Errorf("the failed step is recorded")
	}
	if n := count(t, r, `SELECT COUNT(*) FROM users WHERE id = 7`); n != 1 {
		t.Errorf("the failed step's delete stayed")
	}
	if on := rowsOf(t, r, `PRAGMA foreign_keys`); !slices.Equal(on, []string{"1"}) {
		t.Errorf("after the failed step the connection's foreign keys are %q, want on (1)", on)
	}
}

// Step 014 read without its first line (which asks for the keys off)
// stops before it drops anything, rather than let the drop of the users
// table delete every card and former login with it.
func TestStep014RefusesToRunWithTheKeysOn(t *testing.T) {
	db, r := olderBase(t)
	b, err := fs.ReadFile(sqlite.Migrations(), "014_unique_indexes.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "\n")
	steps := storetest.StepsBefore(t, sqlite.Migrations(), "014_unique_indexes.sql").(fstest.MapFS)
	steps["014_unique_indexes.sql"] = &fstest.MapFile{Data: []byte(rest)}
	if err := db.Migrate(context.Background(), steps); err == nil || !strings.Contains(err.Error(), "foreign_keys = 0") {
		t.Fatalf("step 014 with the keys on: %v; want it stopped by its guard", err)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM cards`); n != 4 {
		t.Errorf("%d cards after the stopped step, want the 4 there were", n)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM user_aliases`); n != 1 {
		t.Errorf("%d former logins after the stopped step, want 1", n)
	}
}

// Rows of a table without row IDs (group_members) are told apart by
// count: one broken before the step does not hide those the step broke.
func TestAKeysOffStepThatBreaksRowsWithoutIDsIsRolledBack(t *testing.T) {
	db, r := olderBase(t)
	for _, q := range []string{
		`INSERT INTO groups (id, source_id, anchor, dn, name) VALUES (1, 1, 'g-1', 'CN=G1', 'G1')`,
		`INSERT INTO group_members (group_id, user_dn) VALUES (1, 'cn=ann'), (1, 'cn=bob')`,
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO group_members (group_id, user_dn) VALUES (99, 'cn=ghost')`,
		`PRAGMA foreign_keys = ON`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	steps := storetest.StepsBefore(t, sqlite.Migrations(), "014_unique_indexes.sql").(fstest.MapFS)
	steps["014_breaks.sql"] = &fstest.MapFile{Data: []byte("-- roster: foreign keys off\nDELETE FROM groups WHERE id = 1;\n")}
	err := db.Migrate(context.Background(), steps)
	if err == nil || !strings.Contains(err.Error(), "rows of group_members name a missing groups (3, 1 before)") {
		t.Fatalf("a step that leaves a group's members without it: %v; want it refused", err)
	}
	if n := count(t, r, `SELECT COUNT(*) FROM groups`); n != 1 {
		t.Errorf("the failed step's delete stayed")
	}
}
