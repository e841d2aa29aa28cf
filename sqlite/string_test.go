package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/sqlite"
)

// String names the kind of database and its file, for messages such as
// roster migrate's "user base copied from ... to ...".
func TestStringSaysWhichDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, want := db.String(), "sqlite "+path; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
