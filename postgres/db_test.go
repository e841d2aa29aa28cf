package postgres_test

import (
	"context"
	"database/sql"
	"os/user"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://roster:s3cret@db:5432/roster?sslmode=verify-full", "postgres://roster@db:5432/roster"},
		{"postgresql://roster@db/roster", "postgres://roster@db:5432/roster"},
		{"postgres://db/roster?password=s3cret&sslmode=require&sslpassword=k3y", "postgres://" + currentUser(t) + "@db:5432/roster"},
		{"postgres://roster:123%2Fx@db:6432/roster", "postgres://roster@db:6432/roster"},
	}
	for _, tt := range tests {
		got := postgres.Redact(tt.in)
		if got != tt.want || strings.Contains(got, "s3cret") || strings.Contains(got, "k3y") || strings.Contains(got, "123") {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !postgres.IsDSN(tt.in) {
			t.Errorf("IsDSN(%q) = false", tt.in)
		}
	}
	if got := postgres.Redact("postgres://roster:pa ss@db:bad/x"); strings.Contains(got, "pa ss") {
		t.Errorf("an unparsable URL is echoed: %q", got)
	}
	if postgres.IsDSN("/var/lib/roster/roster.db") {
		t.Error("a file path is taken for a DSN")
	}
	if !postgres.LooksLikeKeywords("host=db user=roster password=x") || postgres.LooksLikeKeywords("/var/lib/roster/roster.db") {
		t.Error("LooksLikeKeywords")
	}
}

// A URL that does not parse: the reason, never the URL or its password.
func TestABadURLSaysWhyWithoutThePassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://roster:Sekret-9@db:port/roster")
	msg := roster.ErrorMessage(err)
	if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(msg, "invalid port") || strings.Contains(err.Error(), "Sekret-9") || strings.Contains(msg, "a database URL that does not parse") {
		t.Fatalf("Open(bad URL) = %v (%s)", err, msg)
	}
}

// currentUser is the user pgx assumes when the URL names none.
func currentUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	return u.Username
}

func TestOpenSaysWhatIsWrongWithoutThePassword(t *testing.T) {
	_, _, dsn := openLab(t)
	ctx := context.Background()
	wrong := strings.Replace(dsn, "@", "x@", 1) // the password gains a letter
	_, err := postgres.Open(ctx, wrong)
	if roster.ErrorCode(err) != roster.EUNAUTHORIZED || strings.Contains(err.Error(), ":"+passwordOf(dsn)+"x") {
		t.Errorf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), passwordOf(dsn)) {
		t.Errorf("the error shows the password: %v", err)
	}
	i := strings.LastIndex(dsn, "/")
	j := strings.Index(dsn[i:], "?")
	missing := dsn[:i] + "/no_such_db" + dsn[i+j:]
	if _, err := postgres.Open(ctx, missing); roster.ErrorCode(err) != roster.ENOTFOUND || !strings.Contains(err.Error(), "createdb") {
		t.Errorf("missing database: %v", err)
	}
	closed := strings.Replace(dsn, ":15432/", ":1/", 1)
	if _, err := postgres.Open(ctx, closed); roster.ErrorCode(err) != roster.EUNAVAILABLE {
		t.Errorf("closed port: %v", err)
	}
}

func passwordOf(dsn string) string {
	rest := strings.TrimPrefix(dsn, "postgres://")
	user := rest[:strings.Index(rest, "@")]
	return user[strings.Index(user, ":")+1:]
}

// TestSameStepsAsSQLite: every schema change has its twin, under the same
// name, so both stores list the same applied steps.
func TestSameStepsAsSQLite(t *testing.T) {
	names := func(t *testing.T, db interface {
		Migrations(context.Context) ([]string, error)
	}) string {
		s, err := db.Migrations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(s, " ")
	}
	pg, _, _ := openLab(t)
	lite, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if a, b := names(t, pg), names(t, lite); a != b || a == "" {
		t.Errorf("postgres steps %q, sqlite steps %q", a, b)
	}
}

// TestNodesStartingTogether: several nodes opening one new database at
// once apply each schema step once, and none fails.
func TestNodesStartingTogether(t *testing.T) {
	dsn := labenv.Require(t).PostgresDatabase(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("a node failed to open: %v", err)
		}
	}
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps, _ := db.Migrations(context.Background())
	lite, _ := sqlite.Open(":memory:")
	defer lite.Close()
	want, _ := lite.Migrations(context.Background())
	if strings.Join(steps, " ") != strings.Join(want, " ") {
		t.Errorf("steps %v, want %v", steps, want)
	}
}

// TestDNKeyUpgrade: a user base written before DN keys were parsed
// (roster.DNKey) gets its keys right when the schema step runs.
func TestDNKeyUpgrade(t *testing.T) {
	db, r := schemaless(t)
	storetest.RunDNKeyUpgrade(t, db, r, postgres.Migrations())
}

// schemaless returns a store on a new, empty lab database, without its
// schema, for the tests of a schema step, and a plain connection to it.
func schemaless(t *testing.T) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	return schemalessIn(t, postgres.Dialect)
}

// schemalessIn is schemaless with the dialect d.
func schemalessIn(t *testing.T, d sqlstore.Dialect) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	dsn := labenv.Require(t).PostgresDatabase(t)
	raw := func() *sql.DB {
		r, err := postgres.Raw(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	return sqlstore.New(raw(), d, "upgrade test"), raw()
}

// TestRefusesANewerSchema: a downgrade is refused with the step named.
func TestRefusesANewerSchema(t *testing.T) {
	dsn := labenv.Require(t).PostgresDatabase(t)
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := postgres.Raw(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	storetest.RunRefusesANewerSchema(t, db, r, postgres.Migrations())
}

// TestUniqueIndexesUpgrade: step 015 makes the unique anchor and card
// number indexes of their own, named as SQLite's, with every row kept
// and both rules holding after. The store that runs the steps knows of
// no deferrable index, so that none is built but by the step.
func TestUniqueIndexesUpgrade(t *testing.T) {
	ctx := context.Background()
	bare := postgres.Dialect
	bare.Deferrable = nil
	old, r := schemalessIn(t, bare)
	if err := old.Migrate(ctx, storetest.StepsBefore(t, postgres.Migrations(), "015_unique_indexes.sql")); err != nil {
		t.Fatal(err)
	}
	if got := uniqueRules(t, r); got != "cards_number_key users_source_id_anchor_key" {
		t.Fatalf("unique rules before the step: %q", got)
	}
	for _, q := range []string{
		`INSERT INTO sources (name, created_at) VALUES ('corp', now())`,
		`INSERT INTO users (source_id, anchor, login, created_at, updated_at) VALUES (1, 'a-1', 'ann', now(), now()), (1, 'a-2', 'bob', now(), now())`,
		`INSERT INTO cards (user_id, number, origin) VALUES (1, '1001', 'directory'), (2, '2001', 'manual')`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := old.Migrate(ctx, postgres.Migrations()); err != nil {
		t.Fatal(err)
	}
	if got := uniqueRules(t, r); got != "cards_number users_source_anchor" {
		t.Errorf("unique rules after the step: %q, want the two indexes alone", got)
	}
	var rows string
	if err := r.QueryRow(`SELECT string_agg(u.login || ':' || c.number, ' ' ORDER BY u.id) FROM users u JOIN cards c ON c.user_id = u.id`).Scan(&rows); err != nil || rows != "ann:1001 bob:2001" {
		t.Errorf("rows after the step: %q, %v", rows, err)
	}
	// The rules hold: a twin anchor and a taken number are refused, a new
	// anchor and a new number are not.
	for q, refused := range map[string]bool{
		`INSERT INTO users (source_id, anchor, login, created_at, updated_at) VALUES (1, 'a-1', 'ann2', now(), now())`: true,
		`INSERT INTO cards (user_id, number, origin) VALUES (2, '1001', 'manual')`:                                     true,
		`INSERT INTO users (source_id, anchor, login, created_at, updated_at) VALUES (1, 'a-3', 'cid', now(), now())`:  false,
		`INSERT INTO cards (user_id, number, origin) VALUES (2, '3001', 'manual')`:                                     false,
	} {
		if _, err := r.Exec(q); (err != nil) != refused {
			t.Errorf("after the step, %s: %v; want refused %v", q, err, refused)
		}
	}
	if m, err := sqlstore.New(r, postgres.Dialect, "upgrade test").DeferredIndexes(ctx); err != nil || len(m) != 0 {
		t.Errorf("after the step, %v away (%v)", m, err)
	}
}

// uniqueRules lists the unique constraints and unique indexes of users
// and cards, primary keys aside.
func uniqueRules(t *testing.T, r *sql.DB) string {
	t.Helper()
	var names string
	if err := r.QueryRow(`SELECT COALESCE(string_agg(name, ' ' ORDER BY name), '') FROM (
		SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid IN ('users'::regclass, 'cards'::regclass) AND i.indisunique AND NOT i.indisprimary) n`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	return names
}

// Step 015 beside a transaction that has read the users and then writes
// them (a print code being set): both finish. A step that built an index
// before taking the tables would hold the users against the write while
// it waited for the reader to end, and one of the two would fail as a
// deadlock.
func TestStep015BesideAReaderThatThenWrites(t *testing.T) {
	ctx := context.Background()
	db, r := schemaless(t)
	if err := db.Migrate(ctx, storetest.StepsBefore(t, postgres.Migrations(), "015_unique_indexes.sql")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO sources (name, created_at) VALUES ('corp', now())`,
		`INSERT INTO users (source_id, anchor, login, created_at, updated_at) VALUES (1, 'a-1', 'ann', now(), now())`,
	} {
		if _, err := r.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	reader := holding(t, r, `SELECT COUNT(*) FROM users`)
	// The step waits for the reader, which then writes.
	stepErr := behind(t, r, reader, "step 015", func() error { return db.Migrate(ctx, postgres.Migrations()) }, func() {
		if _, err := reader.Exec(`UPDATE users SET print_code_hash = 'h' WHERE login = 'ann'`); err != nil {
			t.Errorf("the reader's write beside step 015: %v", err)
		}
	})
	if stepErr != nil {
		t.Errorf("step 015 beside a reader that then writes: %v", stepErr)
	}
}
