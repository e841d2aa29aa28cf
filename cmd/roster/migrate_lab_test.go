package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/userbase"
)

// TestMoveFromSQLiteToPostgres follows the README's move: sync the lab
// into SQLite, roster migrate -from it into an empty PostgreSQL, then
// sync against PostgreSQL: users, IDs and run history came along, and
// the next sync finds nothing to do.
func TestMoveFromSQLiteToPostgres(t *testing.T) {
	env := labenv.Require(t)
	dsn := env.PostgresDatabase(t)
	data := t.TempDir()
	first := syncJSON(t, exitOK, syncArgs(env, labenv.OpenLDAP, data, "example", "")...)
	want := first.Run.Created
	if want < 1000 || first.Run.Status != "succeeded" {
		t.Fatalf("first sync: %s %s", first.Run.Status, counts(first.Run))
	}

	code, out, errOut := runCLI(t, nil, "migrate", "-data", data, "-db", dsn, "-from", filepath.Join(data, "roster.db"))
	if code != exitOK || !strings.Contains(out, "users") || !strings.Contains(out, "secret.key") {
		t.Fatalf("migrate = %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, passwordIn(dsn)) {
		t.Fatalf("migrate printed the database password:\n%s%s", out, errOut)
	}
	// Again into the same database: refused, nothing doubled.
	if code, _, errOut := runCLI(t, nil, "migrate", "-data", data, "-db", dsn, "-from", filepath.Join(data, "roster.db")); code == exitOK || !strings.Contains(errOut, "not empty") {
		t.Fatalf("a second migrate = %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "migrate", "-data", data, "-db", dsn, "-from", filepath.Join(data, "nope.db")); code != exitUsage {
		t.Fatalf("migrate from a missing file = %d %q", code, errOut)
	}

	// Same IDs and history, now read from PostgreSQL.
	pg, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := userbase.OpenSQLite(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	users := env.Data(t, labenv.OpenLDAP).Users
	for _, login := range []string{users[len(users)/3].Login, users[len(users)/2].Login} {
		a, err1 := lite.UserByLogin(context.Background(), login)
		b, err2 := pg.UserByLogin(context.Background(), login)
		if err1 != nil || err2 != nil || a.ID != b.ID || a.Email != b.Email || len(a.Cards) != len(b.Cards) {
			t.Fatalf("%s: sqlite %+v %v, postgres %+v %v", login, a, err1, b, err2)
		}
	}
	runs, err := pg.Runs(context.Background(), 0, 0)
	if err != nil || len(runs) != 1 || runs[0].ID != first.Run.ID || runs[0].Created != want {
		t.Fatalf("runs in postgres: %+v, %v", runs, err)
	}

	args := append(syncArgs(env, labenv.OpenLDAP, data, "example", ""), "-db", dsn)
	next := syncJSON(t, exitOK, args...)
	if next.Run.Created != 0 || next.Run.Updated != 0 || next.Run.Disabled != 0 || next.Run.Deleted != 0 || next.Run.Seen != want {
		t.Fatalf("the first sync into postgres: %s, want nothing to do", counts(next.Run))
	}
	if next.Run.ID <= first.Run.ID {
		t.Fatalf("the new run has ID %d, not after %d", next.Run.ID, first.Run.ID)
	}
}

func passwordIn(dsn string) string {
	rest := strings.TrimPrefix(dsn, "postgres://")
	user := rest[:strings.Index(rest, "@")]
	return user[strings.Index(user, ":")+1:]
}
