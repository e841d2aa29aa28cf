package userbase

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/backup"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

// KeyFiles are the keys of a data folder: without them a restored user
// base has stored passwords nobody can open and print codes nobody can
// check.
var KeyFiles = []string{datadir.SecretKeyName, datadir.PrintCodeKeyName}

// ReadKeys reads the data folder's keys. The secret key is the one roster
// uses: from its setting (ROSTER_SECRET_KEY, its file, its credential)
// where that is set, else secret.key. A key that was never made (no
// stored password yet, say) is left out.
//
// Errors: a key that cannot be read, or is damaged.
func (p Place) ReadKeys(getenv func(string) string) (backup.Keys, error) {
	keys := backup.Keys{}
	for _, name := range KeyFiles {
		b, err := os.ReadFile(filepath.Join(p.Dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("cannot read the key %s: %w", name, err)
		case len(b) != 32:
			return nil, fmt.Errorf("the key %s is damaged (%d bytes, want 32)", filepath.Join(p.Dir, name), len(b))
		}
		keys[name] = b
	}
	if v, _, err := datadir.Setting(getenv, "ROSTER_SECRET_KEY", "secret-key"); err != nil {
		return nil, err
	} else if v != "" {
		if keys[datadir.SecretKeyName], err = datadir.SecretKey(p.Dir, getenv, false); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// Backup writes the backup file out: a copy of src taken in one read
// transaction (so roster serve and syncs go on meanwhile), as an SQLite
// database whatever the store, with the keys sealed under pass. m is
// completed with the copy's schema steps and row counts. out appears
// whole or not at all, and an existing file is never replaced.
//
// Errors: EINVALID when out exists; the copy's and the file's errors.
func Backup(ctx context.Context, src *sqlstore.DB, out string, m backup.Manifest, keys backup.Keys, pass roster.Secret) (sqlstore.CopyStats, error) {
	if _, err := os.Lstat(out); err == nil {
		return nil, roster.Errorf(roster.EINVALID, "%s exists already; roster backup never replaces a file: give a new name", out)
	}
	work, err := os.MkdirTemp(filepath.Dir(out), ".roster-backup-")
	if err != nil {
		return nil, fmt.Errorf("cannot write next to %s: %w", out, err)
	}
	defer os.RemoveAll(work)
	copyPath := filepath.Join(work, "roster.db")
	dst, err := sqlite.Open(copyPath)
	if err != nil {
		return nil, err
	}
	stats, err := sqlstore.Copy(ctx, dst, src)
	if err == nil {
		m.Migrations, err = dst.Migrations(ctx)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	m.Rows = stats
	tmp := filepath.Join(work, "backup")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	err = backup.Write(f, m, copyPath, keys, pass)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp, out); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", out, err)
	}
	return stats, nil
}

// Restore fills the place from the backup file in: the SQLite file, or
// a new, empty PostgreSQL database, and the keys in the data folder. It
// never overwrites: a data folder that holds a user base or keys is
// refused. The copy is opened as a user base on the way, which brings a
// backup of an older roster up to this one's schema and refuses a newer
// one's.
//
// Errors: EINVALID when the folder holds a user base or keys, or in
// cannot be opened; the backup's errors (a wrong passphrase, a damaged
// file).
func (p Place) Restore(ctx context.Context, in string, pass roster.Secret) (backup.Manifest, backup.Keys, sqlstore.CopyStats, error) {
	var m backup.Manifest
	live := []string{}
	for _, name := range KeyFiles {
		live = append(live, filepath.Join(p.Dir, name))
	}
	if !p.Postgres {
		live = append(live, p.DB, p.DB+"-wal")
	}
	for _, f := range live {
		if _, err := os.Lstat(f); err == nil {
			return m, nil, nil, roster.Errorf(roster.EINVALID, "%s exists: the data folder holds a user base or its keys, and roster restore never overwrites them; restore into a new folder (-data), or stop roster and move them away first", f)
		}
	}
	f, err := os.Open(in)
	if err != nil {
		return m, nil, nil, roster.Errorf(roster.EINVALID, "cannot open the backup: %v", err)
	}
	defer f.Close()
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return m, nil, nil, fmt.Errorf("cannot create the data folder %s: %w", p.Dir, err)
	}
	work, err := os.MkdirTemp(p.Dir, ".roster-restore-")
	if err != nil {
		return m, nil, nil, err
	}
	defer os.RemoveAll(work)
	copyPath := filepath.Join(work, "roster.db")
	m, keys, err := backup.Read(f, copyPath, pass)
	if err != nil {
		return m, nil, nil, err
	}
	stats, err := p.fill(ctx, copyPath, m.Rows)
	if err != nil {
		return m, nil, nil, err
	}
	for _, name := range KeyFiles {
		if key, ok := keys[name]; ok {
			if err := datadir.WriteFile(filepath.Join(p.Dir, name), key, 0o600, false); err != nil {
				return m, nil, nil, err
			}
		}
	}
	return m, keys, stats, nil
}

// fill puts the restored copy at the place: a link for SQLite (the copy
// is the user base), a copy into PostgreSQL.
func (p Place) fill(ctx context.Context, copyPath string, rows sqlstore.CopyStats) (sqlstore.CopyStats, error) {
	if !p.Postgres {
		if err := os.MkdirAll(filepath.Dir(p.DB), 0o700); err != nil {
			return nil, err
		}
		if err := os.Link(copyPath, p.DB); err != nil {
			return nil, fmt.Errorf("cannot put the user base at %s: %w", p.DB, err)
		}
		db, err := OpenSQLite(p.DB)
		if err != nil {
			return nil, err
		}
		return rows, db.Close()
	}
	src, err := OpenSQLite(copyPath)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, p.DB)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	return sqlstore.Copy(ctx, dst, src)
}
