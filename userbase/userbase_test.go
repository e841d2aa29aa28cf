package userbase

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/backup"
	"github.com/rosterhq/roster/datadir"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// -db beats $ROSTER_DB, which beats roster.db in the data folder; a
// location that is neither a postgres:// URL nor a file is refused
// without its password in the message.
func TestLocate(t *testing.T) {
	for _, tt := range []struct {
		flag string
		env  map[string]string
		want string
		pg   bool
	}{
		{"", nil, filepath.Join("/d", "roster.db"), false},
		{"", map[string]string{"ROSTER_DB": "/x/env.db"}, "/x/env.db", false},
		{"/x/flag.db", map[string]string{"ROSTER_DB": "/x/env.db"}, "/x/flag.db", false},
		{"postgres://roster@db:5432/roster", nil, "postgres://roster@db:5432/roster", true},
	} {
		p, err := Locate("/d", tt.flag, env(tt.env))
		if err != nil || p.DB != tt.want || p.Postgres != tt.pg || p.Dir != "/d" {
			t.Errorf("Locate(%q, %v) = %+v, %v; want %s (postgres %v)", tt.flag, tt.env, p, err, tt.want, tt.pg)
		}
	}
	for _, bad := range []string{"host=db password=Sekret-1", "Postgres://u:Sekret-1@db/roster", "mysql://u:Sekret-1@db/roster"} {
		_, err := Locate("/d", bad, env(nil))
		if roster.ErrorCode(err) != roster.EINVALID || strings.Contains(roster.ErrorMessage(err), "Sekret-1") {
			t.Errorf("Locate(%q) = %v; want EINVALID without the password", bad, err)
		}
	}
}

// A dry run's user base is an empty one in memory when the folder has
// none: it creates no file. One to back up or copy from must exist.
func TestOpeningNeverCreatesWhatMustExist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, _ := Locate(dir, "", env(nil))
	db, err := p.OpenToRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(p.DB); !os.IsNotExist(err) {
		t.Fatalf("OpenToRead created %s (%v)", p.DB, err)
	}
	if _, err := p.OpenExisting(ctx); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("OpenExisting on no file: %v, want EINVALID", err)
	}
	if _, err := p.OpenOther(ctx, filepath.Join(dir, "typo.db")); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("OpenOther on no file: %v, want EINVALID", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !os.IsNotExist(err) {
		t.Errorf("OpenOther created the file it was given")
	}
	// The same file by another spelling is the same user base.
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, p.DB)
	if err == nil {
		if _, err := p.OpenOther(ctx, rel); roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), "same") {
			t.Errorf("OpenOther(%s) of %s: %v, want a refusal naming the same user base", rel, p.DB, err)
		}
	}
}

// A backup restores into a new folder whole: the user base and both
// keys. Nothing is ever overwritten: neither an existing backup file nor
// a folder that holds a user base or keys.
func TestBackupRestoresIntoANewFolderOnly(t *testing.T) {
	ctx := context.Background()
	from, _ := Locate(t.TempDir(), "", env(nil))
	db, err := from.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SourceID(ctx, "corp"); err != nil {
		t.Fatal(err)
	}
	secret, _ := datadir.KeyFile(filepath.Join(from.Dir, datadir.SecretKeyName), "secret key", true)
	code, _ := datadir.KeyFile(filepath.Join(from.Dir, datadir.PrintCodeKeyName), "print code key", true)
	keys, err := from.ReadKeys(env(nil))
	if err != nil || !bytes.Equal(keys[datadir.SecretKeyName], secret) || !bytes.Equal(keys[datadir.PrintCodeKeyName], code) {
		t.Fatalf("ReadKeys: %v %v", keys, err)
	}
	out := filepath.Join(t.TempDir(), "roster.backup")
	pass := roster.Secret("a long enough passphrase")
	m := backup.Manifest{Roster: "test", TakenAt: time.Now().UTC(), From: db.String()}
	if _, err := Backup(ctx, db, out, m, keys, pass); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, db, out, m, keys, pass); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("a second backup onto %s: %v, want EINVALID", out, err)
	}

	to, _ := Locate(filepath.Join(t.TempDir(), "new"), "", env(nil))
	got, gotKeys, _, err := to.Restore(ctx, out, pass)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != m.From || len(got.Migrations) == 0 {
		t.Errorf("manifest %+v", got)
	}
	for name, want := range map[string][]byte{datadir.SecretKeyName: secret, datadir.PrintCodeKeyName: code} {
		b, err := os.ReadFile(filepath.Join(to.Dir, name))
		if err != nil || !bytes.Equal(b, want) || !bytes.Equal(gotKeys[name], want) {
			t.Errorf("restored %s: %v", name, err)
		}
	}
	back, err := to.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if _, err := back.LookupSourceID(ctx, "corp"); err != nil {
		t.Errorf("the restored user base lacks the source: %v", err)
	}
	if _, _, _, err := to.Restore(ctx, out, pass); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("a restore over a user base: %v, want EINVALID", err)
	}
}

// An SQLite user base's page caches are the process's memory; a
// PostgreSQL one's are the server's.
func TestPageCacheBytesCountsOnlyWhatTheProcessHolds(t *testing.T) {
	if got := (Place{CacheKiB: SyncCacheKiB}).PageCacheBytes(); got != SyncCacheKiB<<10 {
		t.Errorf("SQLite with %d KiB: %d bytes", SyncCacheKiB, got)
	}
	if got := (Place{CacheKiB: SyncCacheKiB, Postgres: true}).PageCacheBytes(); got != 0 {
		t.Errorf("PostgreSQL: %d bytes", got)
	}
}
