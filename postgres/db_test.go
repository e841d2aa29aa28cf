package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://roster:s3cret@db:5432/roster?sslmode=verify-full", "postgres://roster:xxxxx@db:5432/roster?sslmode=verify-full"},
		{"postgresql://roster@db/roster", "postgresql://roster@db/roster"},
		{"postgres://db/roster?password=s3cret&sslmode=require", "postgres://db/roster?password=xxxxx&sslmode=require"},
	}
	for _, tt := range tests {
		if got := postgres.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !postgres.IsDSN(tt.in) {
			t.Errorf("IsDSN(%q) = false", tt.in)
		}
	}
	if postgres.IsDSN("/var/lib/roster/roster.db") {
		t.Error("a file path is taken for a DSN")
	}
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
