package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/postgres"
)

// constraints lists the schema's constraints as PostgreSQL defines them,
// one a line.
func constraints(t *testing.T, r *sql.DB) string {
	t.Helper()
	rows, err := r.Query(`SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
		FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// The foreign keys a first sync defers are those of the schema, to the
// letter: a build makes them again as the schema's steps did, validated.
// Before the build, it deletes the cards of a user deleted while the key
// was away, as the key's cascade would have, so that the key can be made
// and the number can go to someone else.
func TestDeferredForeignKeysAreTheSchemas(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLab(t)
	before := constraints(t, r)
	for _, d := range postgres.Dialect.Deferrable {
		if !strings.Contains(before, " "+d.Name+" "+strings.SplitN(d.Make, " "+d.Name+" ", 2)[1]+" true") {
			t.Errorf("the schema has no constraint %q\n%s", d.Make, before)
		}
	}
	dropped, err := db.DeferIndexes(ctx)
	if err != nil || len(dropped) != len(postgres.Dialect.Deferrable) {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v", dropped, err)
	}
	if c := constraints(t, r); c == before {
		t.Fatalf("DeferIndexes dropped %v, and the constraints are the same:\n%s", dropped, c)
	}

	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.Apply(ctx, source, []roster.Change{
		{Kind: roster.Create, Login: "ann", User: &roster.User{Anchor: "a-ann", Login: "ann", Cards: []roster.Card{{Number: "1001"}}}},
		{Kind: roster.Create, Login: "cid", User: &roster.User{Anchor: "a-cid", Login: "cid", Cards: []roster.Card{{Number: "3001"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// cid goes behind the store's back, by hand; the key is away, so his
	// card stays.
	if _, err := r.Exec(`DELETE FROM users WHERE login = 'cid'`); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards WHERE number = '3001'`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("with the key away, cid's card rows: %d, %v; want 1", left, err)
	}

	if err := db.BuildIndexes(ctx); err != nil {
		t.Fatalf("BuildIndexes: %v", err)
	}
	if after := constraints(t, r); after != before {
		t.Errorf("after the build, the constraints are\n%s\nwant\n%s", after, before)
	}
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards WHERE number = '3001'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("after the build, cid's card rows: %d, %v; want 0", left, err)
	}
	if err := db.AddCard(ctx, ids[0], roster.Card{Number: "3001"}); err != nil {
		t.Errorf("cid's number cannot go to ann after the build: %v", err)
	}
	// The key is back: a card for no user is refused.
	if _, err := r.Exec(`INSERT INTO cards (user_id, number, origin) VALUES (999999, '9', 'manual')`); err == nil {
		t.Error("after the build, a card for no user was stored")
	}
}

// Two nodes that both find a key away build it once: the second, once it
// has the lock, finds it made and goes on, where adding it again would
// fail.
func TestTwoBuildsAtOnceMakeEachKeyOnce(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLab(t)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) == 0 {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v", dropped, err)
	}
	// Both builds read what is away, then wait for the lock this
	// transaction holds.
	hold, err := r.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.Exec(postgres.Dialect.LockMigrations); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- db.BuildIndexes(ctx) }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for waiting := 0; waiting < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, %d builds wait for the lock, want 2", waiting)
		}
		if err := r.QueryRow(`SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("two builds at once: %v", err)
		}
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Errorf("after two builds, %v away (%v)", away, err)
	}
}
