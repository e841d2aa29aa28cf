package sqlite_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("reopening applies no migration twice and keeps the data", func(t *testing.T) {
		db, path, source := open(t)
		storetest.Create(t, db, source, storetest.NewUser("alice", "1001"))
		db.Close()
		for range 2 {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if u := storetest.Stored(t, db, source, "anchor-alice"); u == nil || u.Login != "alice" {
				t.Fatalf("after reopening, alice is %+v", u)
			}
			db.Close()
		}
		r := raw(t, path)
		steps, _ := fs.Glob(os.DirFS("migration"), "*.sql")
		if n, d := count(t, r, `SELECT COUNT(*) FROM migrations`), count(t, r, `SELECT COUNT(DISTINCT name) FROM migrations`); n != len(steps) || d != len(steps) {
			t.Fatalf("migrations table has %d rows, %d names; want each of the %d steps once", n, d, len(steps))
		}
		if n := count(t, r, `SELECT COUNT(*) FROM migrations WHERE name = '001_init.sql'`); n != 1 {
			t.Fatalf("001_init.sql is recorded %d times", n)
		}
	})

	t.Run("the file is in WAL mode", func(t *testing.T) {
		_, path, _ := open(t)
		var mode string
		if err := raw(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Fatalf("journal_mode is %q, want wal", mode)
		}
	})

	t.Run("foreign keys cascade a delete to cards and aliases", func(t *testing.T) {
		db, path, source := open(t)
		u := storetest.Create(t, db, source, storetest.NewUser("alice", "1001", "1002"))[0]
		u.Login = "alice2"
		storetest.MustApply(t, db, source, roster.Change{Kind: roster.Rename, OldLogin: "alice", User: u})
		storetest.MustApply(t, db, source, roster.Change{Kind: roster.Delete, User: &roster.User{ID: u.ID}})
		r := raw(t, path)
		if n := count(t, r, `SELECT COUNT(*) FROM cards`) + count(t, r, `SELECT COUNT(*) FROM user_aliases`); n != 0 {
			t.Fatalf("%d cards and aliases outlive their user", n)
		}
	})

	t.Run("an empty path is refused", func(t *testing.T) {
		_, err := sqlite.Open("")
		wantCode(t, err, roster.EINVALID)
	})

	t.Run("an in-memory database works, even when Users' callback uses it", func(t *testing.T) {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		source, err := db.SourceID(ctx, "mem")
		if err != nil {
			t.Fatal(err)
		}
		storetest.Create(t, db, source, storetest.NewUser("alice"), storetest.NewUser("bob"))
		var seen []string
		err = db.Users(ctx, source, func(u *roster.User) error {
			owners, err := db.LoginOwners(ctx, source, []string{u.Login})
			seen = append(seen, owners[u.Login])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(seen) != "[anchor-alice anchor-bob]" {
			t.Fatalf("Users saw %v", seen)
		}
	})

	t.Run("concurrent writers wait for each other instead of failing", func(t *testing.T) {
		db, _, source := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Go(func() {
				for b := range 5 {
					var changes []roster.Change
					for i := range 20 {
						u := storetest.NewUser(fmt.Sprintf("w%d-b%d-u%d", w, b, i))
						changes = append(changes, roster.Change{Kind: roster.Create, User: u})
					}
					if _, err := db.Apply(ctx, source, changes); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent Apply: %v", err)
		}
		_, total, err := db.FindUsers(ctx, sqlstore.UserFilter{})
		if err != nil || total != 400 {
			t.Fatalf("FindUsers total %d, %v; want 400", total, err)
		}
	})

	t.Run("a missing folder is created", func(t *testing.T) {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "a", "b", "roster.db"))
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	})
}

// TestDNKeyUpgrade: a user base written before DN keys were parsed
// (roster.DNKey) gets its keys right when the schema step runs.
func TestDNKeyUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	r := raw(t, path)
	db := sqlstore.New(r, sqlite.Dialect, path)
	storetest.RunDNKeyUpgrade(t, db, raw(t, path), sqlite.Migrations())
}

// TestRefusesANewerSchema: a downgrade is refused with the step named.
func TestRefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	storetest.RunRefusesANewerSchema(t, db, raw(t, path), sqlite.Migrations())
}
