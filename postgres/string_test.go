package postgres_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/postgres"
)

// String names the kind of database and where it is, for messages and
// logs: the server and database, never the password.
func TestStringSaysWhichDatabaseWithoutThePassword(t *testing.T) {
	db, _, dsn := openLab(t)
	got := db.String()
	if want := "postgres " + postgres.Redact(dsn); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if pw := passwordOf(dsn); pw != "" && strings.Contains(got, pw) {
		t.Errorf("String() shows the password: %q", got)
	}
}
