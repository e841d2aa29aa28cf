package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlstore"
)

// TestApplyWhoseConnectionDiesMidCopy cuts the connection of an Apply
// while it copies (sqlstore's copyCards): the server restarted, or a
// node's network went. The Apply fails, naming what it was writing and
// not the password; no user or card of its batch stays, though its users
// were copied before the cut; and the pool, rid of the dead connection,
// writes the same batch whole on the next try.
func TestApplyWhoseConnectionDiesMidCopy(t *testing.T) {
	ctx := context.Background()
	db, r, dsn := openLab(t)
	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	changes := creates("u", n)
	count := func(table string) int {
		t.Helper()
		var c int
		if err := r.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// The users' copy goes through; the cards' waits for this lock.
	hold := holding(t, r, "LOCK TABLE cards IN SHARE MODE")
	err = behind(t, r, hold, "Apply", func() error {
		_, err := db.Apply(ctx, source, changes)
		return err
	}, func() {
		var cut int
		if err := r.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'copy%cards%'`).Scan(&cut); err != nil {
			t.Fatal(err)
		}
		if cut != 1 {
			t.Fatalf("%d connections copying cards were cut, want 1", cut)
		}
	})
	if err == nil {
		t.Fatal("an Apply whose connection was cut while it copied returned no error")
	}
	if !strings.Contains(err.Error(), "cards") {
		t.Errorf("the error does not say what was being written: %v", err)
	}
	if p := passwordOf(dsn); p != "" && strings.Contains(err.Error(), p) {
		t.Errorf("the error shows the password: %v", err)
	}
	if u, c := count("users"), count("cards"); u != 0 || c != 0 {
		t.Fatalf("after the failed Apply, %d users and %d cards are stored, want none", u, c)
	}

	ids, err := db.Apply(ctx, source, changes)
	if err != nil {
		t.Fatalf("the same batch, once the connection is back: %v", err)
	}
	if len(ids) != n {
		t.Errorf("Apply returned %d IDs, want %d", len(ids), n)
	}
	if u, c := count("users"), count("cards"); u != n || c != n {
		t.Errorf("after the second Apply, %d users and %d cards are stored, want %d of each", u, c, n)
	}
	var linked int
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards c JOIN users u ON u.id = c.user_id
		WHERE c.number = '9' || u.login`).Scan(&linked); err != nil {
		t.Fatal(err)
	}
	if linked != n {
		t.Errorf("%d cards belong to the user they were written for, want %d", linked, n)
	}
}

// creates returns n creates of users named prefix0, prefix1..., each
// with one card, numbered "9" and the login.
func creates(prefix string, n int) []roster.Change {
	var changes []roster.Change
	for i := range n {
		login := fmt.Sprintf("%s%d", prefix, i)
		changes = append(changes, roster.Change{Kind: roster.Create, User: &roster.User{
			Anchor: "a-" + login, Login: login, Cards: []roster.Card{{Number: "9" + login}}}})
	}
	return changes
}

// applyBehindTheSequence applies changes while another transaction holds
// the users' ID sequence (ALTER SEQUENCE), and returns the statement of
// the Apply that waited for it: the copy's "SELECT nextval", or the
// INSERT whose column default takes the ID. meanwhile, when set, runs
// while it waits, with the waiting backend's PID.
func applyBehindTheSequence(t *testing.T, db *sqlstore.DB, r *sql.DB, source int64, changes []roster.Change, meanwhile func(pid int)) (string, error) {
	t.Helper()
	hold := holding(t, r, `DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s CACHE 1', pg_get_serial_sequence('users', 'id')); END $$`)
	var waiting string
	err := behind(t, r, hold, "Apply", func() error {
		_, err := db.Apply(context.Background(), source, changes)
		return err
	}, func() {
		var pid int
		if err := r.QueryRow(`SELECT pid, query FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&pid, &waiting); err != nil {
			t.Fatalf("the Apply that waits for the sequence: %v", err)
		}
		if meanwhile != nil {
			meanwhile(pid)
		}
	})
	return waiting, err
}

// stored checks that the users of changes are stored with their cards.
func stored(t *testing.T, db *sqlstore.DB, source int64, changes []roster.Change) {
	t.Helper()
	for _, c := range changes {
		got, err := db.UsersByAnchor(context.Background(), source, []string{c.User.Anchor})
		if err != nil {
			t.Fatal(err)
		}
		u := got[c.User.Anchor]
		if u == nil || u.Login != c.User.Login || len(u.Cards) != 1 || u.Cards[0].Number != c.User.Cards[0].Number {
			t.Errorf("%s is stored as %+v", c.User.Login, u)
		}
	}
}

// TestApplyWithoutNewIDs runs Apply under a role that may insert users
// but not take their IDs itself (no USAGE on the users' ID sequence,
// which an INSERT through the column's default does not need): the copy
// of the users is undone and they are inserted, IDs, cards and all; and
// the next batch inserts them at once, without asking again.
func TestApplyWithoutNewIDs(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLabWith(t, postgres.OpenCopyingEveryBatch)
	if _, err := r.Exec(`DO $$ BEGIN EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM CURRENT_USER', pg_get_serial_sequence('users', 'id')); END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Exec(`SELECT nextval(pg_get_serial_sequence('users', 'id'))`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("nextval after the REVOKE: %v, want permission denied", err)
	}
	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	first := creates("u", 3)
	if _, err := db.Apply(ctx, source, first); err != nil {
		t.Fatalf("the first batch: %v", err)
	}
	stored(t, db, source, first)
	second := creates("v", 3)
	waiting, err := applyBehindTheSequence(t, db, r, source, second, nil)
	if err != nil {
		t.Fatalf("the second batch: %v", err)
	}
	if !strings.HasPrefix(strings.TrimSpace(waiting), "INSERT INTO users") {
		t.Errorf("the second batch waited for the sequence in %q, want its INSERT: the refusal was not remembered", waiting)
	}
	stored(t, db, source, second)
}

// TestATransientRefusalOfNewIDsIsForOneBatch cancels the copy's "SELECT
// nextval" (as an admin's pg_cancel_backend or a statement timeout
// would): that batch is inserted, and the next one is copied again.
func TestATransientRefusalOfNewIDsIsForOneBatch(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLabWith(t, postgres.OpenCopyingEveryBatch)
	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	first := creates("u", 3)
	waiting, err := applyBehindTheSequence(t, db, r, source, first, func(pid int) {
		if _, err := r.Exec(`SELECT pg_cancel_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatalf("the first batch, its nextval cancelled: %v", err)
	}
	if !strings.Contains(waiting, "nextval") {
		t.Fatalf("the first batch waited in %q, want its nextval", waiting)
	}
	stored(t, db, source, first)
	second := creates("v", 3)
	waiting, err = applyBehindTheSequence(t, db, r, source, second, nil)
	if err != nil {
		t.Fatalf("the second batch: %v", err)
	}
	if !strings.Contains(waiting, "nextval") {
		t.Errorf("the second batch waited in %q, want the copy's nextval: one cancel stopped the copies", waiting)
	}
	stored(t, db, source, second)
}
