package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/postgres"
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
	var changes []roster.Change
	for i := range n {
		changes = append(changes, roster.Change{Kind: roster.Create, User: &roster.User{
			Anchor: fmt.Sprintf("a-%03d", i), Login: fmt.Sprintf("u%03d", i),
			Cards: []roster.Card{{Number: fmt.Sprint(100000 + i)}}}})
	}
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
		WHERE c.number = (100000 + CAST(substr(u.login, 2) AS int))::text`).Scan(&linked); err != nil {
		t.Fatal(err)
	}
	if linked != n {
		t.Errorf("%d cards belong to the user they were written for, want %d", linked, n)
	}
}

// TestApplyWithoutNewIDs runs Apply under a role that may insert users
// but not take their IDs itself (no USAGE on the users' ID sequence,
// which an INSERT through the column's default does not need): the copy
// of the users is undone and they are inserted, IDs, cards and all, batch
// after batch.
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
	for batch := range 2 {
		var changes []roster.Change
		for i := range 3 {
			login := fmt.Sprintf("u%d%d", batch, i)
			changes = append(changes, roster.Change{Kind: roster.Create, User: &roster.User{
				Anchor: "a-" + login, Login: login, Cards: []roster.Card{{Number: "9" + login[1:]}}}})
		}
		ids, err := db.Apply(ctx, source, changes)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		for i, id := range ids {
			u, err := db.UserByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if want := changes[i].User.Login; u.Login != want || len(u.Cards) != 1 || u.Cards[0].Number != "9"+want[1:] {
				t.Errorf("batch %d: user %d is %s with cards %v, want %s with card 9%s", batch, id, u.Login, u.Cards, want, want[1:])
			}
		}
	}
}
