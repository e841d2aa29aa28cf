package labenv

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The lab's PostgreSQL: the roster role may create databases but is no
// superuser, TCP connections need the right password, and a test database
// is fresh, usable, and gone after the test even with a connection open.
func TestPostgres(t *testing.T) {
	e := Require(t)
	ctx := t.Context()
	dsn := e.PostgresDSN(t)

	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var user string
	var super, createDB bool
	if err := c.QueryRow(ctx, "SELECT current_user, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user").
		Scan(&user, &super, &createDB); err != nil {
		t.Fatal(err)
	}
	if user != "roster" || super || !createDB {
		t.Errorf("LAB_PG_DSN logs in as %q, superuser %v, createdb %v; want roster, false, true", user, super, createDB)
	}

	// Nothing is trust over TCP: a wrong password, or none, is refused.
	u, _ := url.Parse(dsn)
	for _, who := range []*url.Userinfo{url.UserPassword("roster", "wrong"), url.User("postgres")} {
		bad := *u
		bad.User = who
		c, err := pgx.Connect(ctx, bad.String())
		if err == nil {
			c.Close(ctx)
			t.Errorf("%s logged in over TCP with a wrong or no password", who.Username())
			continue
		}
		var pe *pgconn.PgError
		if who.Username() == "roster" && (!errors.As(err, &pe) || pe.Code != "28P01") {
			t.Errorf("a wrong password for roster: %v; want SQLSTATE 28P01 (invalid_password)", err)
		}
	}

	var name string
	var left *pgx.Conn
	t.Run("database", func(t *testing.T) {
		db := e.PostgresDatabase(t)
		if other := e.PostgresDatabase(t); other == db {
			t.Error("two calls returned the same database")
		}
		var err error
		// Left open on purpose: the drop must not wait for it.
		left, err = pgx.Connect(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if err := left.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "roster_t_") || !strings.HasSuffix(db, "/"+name+"?sslmode=disable") {
			t.Errorf("PostgresDatabase's URL leads to database %q; want roster_t_…, the name in its path", name)
		}
		var n int
		if err := left.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil || n != 0 {
			t.Errorf("a new database has %d tables (%v); want none", n, err)
		}
		if _, err := left.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)"); err != nil {
			t.Errorf("the roster role cannot create a table in its test database: %v", err)
		}
	})
	if left != nil {
		defer left.Close(context.Background())
	}
	if name == "" {
		return
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}
