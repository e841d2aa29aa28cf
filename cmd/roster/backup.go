package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/backup"
	"github.com/rosterhq/roster/userbase"
)

const passphraseHelp = "a file holding the passphrase that seals the keys in the backup (else $ROSTER_BACKUP_PASSPHRASE); at least 12 characters"

// runBackup writes a backup file: a consistent copy of the user base,
// taken while roster serve and syncs go on (one read transaction), and
// the data folder's keys sealed under a passphrase.
func runBackup(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "backup", "[-data DIR] [-db postgres://...] [-passphrase-file FILE] BACKUP-FILE")
	store := addStoreFlags(fs, "", "")
	passFile := fs.String("passphrase-file", "", passphraseHelp)
	out, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	pass, err := backupPassphrase(a, *passFile)
	if err != nil {
		return err
	}
	place, err := store.place(a, "")
	if err != nil {
		return err
	}
	src, err := place.OpenExisting(ctx)
	if err != nil {
		return usage(err)
	}
	defer src.Close()
	keys, err := place.ReadKeys(a.getenv)
	if err != nil {
		return usage(err)
	}
	m := backup.Manifest{Roster: versionString(), TakenAt: a.now().UTC(), From: src.String()}
	stats, err := userbase.Backup(ctx, src, out, m, keys, pass)
	if err != nil {
		return usage(err)
	}
	names := keyNames(keys)
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
	store := addStoreFlags(fs, "; it must hold no user base and no keys", "; a PostgreSQL database must be empty")
	passFile := fs.String("passphrase-file", "", passphraseHelp)
	in, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	pass, err := backupPassphrase(a, *passFile)
	if err != nil {
		return err
	}
	place, err := store.place(a, "")
	if err != nil {
		return err
	}
	m, keys, stats, err := place.Restore(ctx, in, pass)
	if err != nil {
		return usage(err)
	}
	a.log.Info("backup restored", "file", in, "taken_at", m.TakenAt, "into", place.Dir, "users", stats["users"])
	fmt.Fprintf(a.stdout, "restored the backup of %s taken %s (by %s) into %s: %d users, %d cards, %d groups, %d runs\n",
		m.From, m.TakenAt.Local().Format("2006-01-02 15:04:05"), m.Roster, place.Dir, stats["users"], stats["cards"], stats["groups"], stats["runs"])
	if place.Postgres {
		fmt.Fprintf(a.stdout, "the user base is in PostgreSQL; the keys are in %s: give every node the same keys\n", place.Dir)
	}
	if _, ok := keys["secret.key"]; ok && a.getenv("ROSTER_SECRET_KEY") != "" {
		fmt.Fprintln(a.stdout, "note: ROSTER_SECRET_KEY is set; roster uses it before secret.key, so it must hold the restored key")
	}
	return nil
}

// keyNames lists the keys a backup holds, in order.
func keyNames(keys backup.Keys) []string {
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
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
