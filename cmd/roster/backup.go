package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/backup"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

// The keys of a data folder: without them a restored user base has
// stored passwords nobody can open and print codes nobody can check.
var keyFiles = []string{"secret.key", "print-code.key"}

const passphraseHelp = "a file holding the passphrase that seals the keys in the backup (else $ROSTER_BACKUP_PASSPHRASE); at least 12 characters"

// runBackup writes a backup file: a consistent copy of the user base,
// taken while roster serve and syncs go on (one read transaction), and
// the data folder's keys sealed under a passphrase.
func runBackup(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "backup", "[-data DIR] [-db postgres://...] [-passphrase-file FILE] BACKUP-FILE")
	data := fs.String("data", "", dataHelp)
	dbf := fs.String("db", "", dbHelp)
	passFile := fs.String("passphrase-file", "", passphraseHelp)
	out, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	pass, err := backupPassphrase(a, *passFile)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil {
		return usageErrorf("%s exists already; roster backup never replaces a file: give a new name", out)
	}
	dir := dataDir(a, *data, "")
	src, err := openToBackUp(ctx, a, *dbf, dir)
	if err != nil {
		return err
	}
	defer src.Close()
	keys, err := readKeys(a, dir)
	if err != nil {
		return err
	}

	// The copy: an SQLite database next to the backup file, whatever the
	// store, read from the store in one transaction (sqlstore.Copy).
	work, err := os.MkdirTemp(filepath.Dir(out), ".roster-backup-")
	if err != nil {
		return fmt.Errorf("cannot write next to %s: %w", out, err)
	}
	defer os.RemoveAll(work)
	copyPath := filepath.Join(work, "roster.db")
	dst, err := sqlite.Open(copyPath)
	if err != nil {
		return err
	}
	stats, err := sqlstore.Copy(ctx, dst, src)
	if err != nil {
		dst.Close()
		return err
	}
	steps, err := dst.Migrations(ctx)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	m := backup.Manifest{Roster: versionString(), TakenAt: a.now().UTC(), From: src.String(), Migrations: steps, Rows: stats}
	tmp := filepath.Join(work, "backup")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = backup.Write(f, m, copyPath, keys, pass)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, out); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	a.log.Info("backup written", "file", out, "from", src.String(), "users", stats["users"], "keys", strings.Join(names, ","))
	fmt.Fprintf(a.stdout, "backed up %s into %s: %d users, %d cards, %d groups, %d runs; keys %s, sealed under the passphrase\n",
		src, out, stats["users"], stats["cards"], stats["groups"], stats["runs"], strings.Join(names, " and "))
	fmt.Fprintln(a.stdout, "keep the passphrase apart from the file: without it the keys, and so the stored passwords and print codes, are lost")
	return nil
}

// runRestore makes a new data folder (and, with -db, fills a new, empty
// PostgreSQL database) from a backup file. It never overwrites: a data
// folder that holds a user base or keys is refused.
func runRestore(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "restore", "[-data DIR] [-db postgres://...] [-passphrase-file FILE] BACKUP-FILE")
	data := fs.String("data", "", dataHelp+"; it must hold no user base and no keys")
	dbf := fs.String("db", "", dbHelp+"; a PostgreSQL database must be empty")
	passFile := fs.String("passphrase-file", "", passphraseHelp)
	in, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	pass, err := backupPassphrase(a, *passFile)
	if err != nil {
		return err
	}
	dir := dataDir(a, *data, "")
	loc := storeLocation(a, *dbf, dir)
	pg, err := checkStoreLocation(loc)
	if err != nil {
		return err
	}
	var live []string
	for _, name := range keyFiles {
		live = append(live, filepath.Join(dir, name))
	}
	if !pg {
		live = append(live, loc, loc+"-wal")
	}
	for _, p := range live {
		if _, err := os.Lstat(p); err == nil {
			return usageErrorf("%s exists: the data folder holds a user base or its keys, and roster restore never overwrites them; restore into a new folder (-data), or stop roster and move them away first", p)
		}
	}
	f, err := os.Open(in)
	if err != nil {
		return usageErrorf("cannot open the backup: %v", err)
	}
	defer f.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the data folder %s: %w", dir, err)
	}
	work, err := os.MkdirTemp(dir, ".roster-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	copyPath := filepath.Join(work, "roster.db")
	m, keys, err := backup.Read(f, copyPath, pass)
	if err != nil {
		return err
	}
	// The copy is opened as a user base, which brings a backup of an older
	// roster up to this one's schema, and refuses a newer one's.
	var stats sqlstore.CopyStats
	if pg {
		src, err := openSQLite(copyPath)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := postgres.Open(ctx, loc)
		if err != nil {
			return err
		}
		defer dst.Close()
		if stats, err = sqlstore.Copy(ctx, dst, src); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(loc), 0o700); err != nil {
			return err
		}
		if err := os.Link(copyPath, loc); err != nil {
			return fmt.Errorf("cannot put the user base at %s: %w", loc, err)
		}
		db, err := openSQLite(loc)
		if err != nil {
			return err
		}
		db.Close()
		stats = m.Rows
	}
	for _, name := range keyFiles {
		if key, ok := keys[name]; ok {
			if err := writeFileAtomic(filepath.Join(dir, name), key, 0o600, false); err != nil {
				return err
			}
		}
	}
	a.log.Info("backup restored", "file", in, "taken_at", m.TakenAt, "into", loc, "users", stats["users"])
	fmt.Fprintf(a.stdout, "restored the backup of %s taken %s (by %s) into %s: %d users, %d cards, %d groups, %d runs\n",
		m.From, m.TakenAt.Local().Format("2006-01-02 15:04:05"), m.Roster, dir, stats["users"], stats["cards"], stats["groups"], stats["runs"])
	if pg {
		fmt.Fprintf(a.stdout, "the user base is in PostgreSQL; the keys are in %s: give every node the same keys\n", dir)
	}
	if _, ok := keys["secret.key"]; ok && a.getenv("ROSTER_SECRET_KEY") != "" {
		fmt.Fprintln(a.stdout, "note: ROSTER_SECRET_KEY is set; roster uses it before secret.key, so it must hold the restored key")
	}
	return nil
}

// parseWithFile parses the flags around one file name, which may come
// before or after them.
func parseWithFile(fs interface {
	Parse([]string) error
	NArg() int
	Arg(int) string
}, args []string) (string, error) {
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usageErrorf("%v", err)
	}
	switch {
	case file == "" && fs.NArg() == 1:
		file = fs.Arg(0)
	case fs.NArg() > 0 || file == "":
		return "", usageErrorf("give one backup file")
	}
	return file, nil
}

// backupPassphrase reads the passphrase from a file (its first line) or
// the environment; never from a flag, which other users can see.
func backupPassphrase(a *app, file string) (roster.Secret, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("cannot read the passphrase file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return roster.Secret(strings.TrimRight(line, "\r")), nil
	}
	if p := a.getenv("ROSTER_BACKUP_PASSPHRASE"); p != "" {
		return roster.Secret(p), nil
	}
	return "", usageErrorf("give the passphrase that seals the keys: -passphrase-file FILE, or ROSTER_BACKUP_PASSPHRASE")
}

// openToBackUp opens the user base to copy; an SQLite one must exist
// already: a typo must not back up a new, empty one.
func openToBackUp(ctx context.Context, a *app, dbFlag, dir string) (*sqlstore.DB, error) {
	loc := storeLocation(a, dbFlag, dir)
	pg, err := checkStoreLocation(loc)
	if err != nil {
		return nil, err
	}
	if pg {
		return postgres.Open(ctx, loc)
	}
	if _, err := os.Stat(loc); err != nil {
		return nil, usageErrorf("no user base to back up at %s (%v); give -data or -db", loc, err)
	}
	return openSQLite(loc)
}

// readKeys reads the data folder's keys; the secret key comes from its
// setting (ROSTER_SECRET_KEY, its file, its credential) where that is
// set, as roster uses it. A key that was
// never made (no stored password yet, say) is left out.
func readKeys(a *app, dir string) (backup.Keys, error) {
	keys := backup.Keys{}
	for _, name := range keyFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("cannot read the key %s: %w", name, err)
		case len(b) != 32:
			return nil, fmt.Errorf("the key %s is damaged (%d bytes, want 32)", filepath.Join(dir, name), len(b))
		}
		keys[name] = b
	}
	// A secret key given as a setting is the one roster uses.
	if v, _, err := secretSetting(a, "ROSTER_SECRET_KEY", "secret-key"); err != nil {
		return nil, err
	} else if v != "" {
		if keys["secret.key"], err = secretKey(a, dir, false); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
