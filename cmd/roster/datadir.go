package main

import (
	"context"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
)

// The -data and -db flags' help, the same on every command.
const (
	dbHelp             = "the user base: a postgres:// URL, shared by several roster nodes (keep its password in PGPASSWORD or ~/.pgpass), or an SQLite file (default: $ROSTER_DB, else roster.db in the data folder)"
	dataHelp           = "data folder (default: $ROSTER_DATA, else /var/lib/roster for root, else ~/.local/share/roster)"
	dataHelpWithConfig = "data folder holding the user base (default: $ROSTER_DATA, else the configuration's data_dir, else /var/lib/roster for root, else ~/.local/share/roster)"
)

// dataDir picks roster's data folder: the -data flag, then $ROSTER_DATA,
// then the configuration's data_dir, then /var/lib/roster for root or
// ~/.local/share/roster for anyone else.
func dataDir(a *app, flagValue, configValue string) string {
	switch {
	case flagValue != "":
		return flagValue
	case a.getenv("ROSTER_DATA") != "":
		return a.getenv("ROSTER_DATA")
	case configValue != "":
		return configValue
	case os.Geteuid() == 0:
		return "/var/lib/roster"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "roster")
	}
	return "roster-data"
}

// storeLocation picks the user base: the -db flag, then $ROSTER_DB, then
// roster.db in the data folder dir.
func storeLocation(a *app, flagValue, dir string) string {
	switch {
	case flagValue != "":
		return flagValue
	case a.getenv("ROSTER_DB") != "":
		return a.getenv("ROSTER_DB")
	}
	return filepath.Join(dir, "roster.db")
}

// checkStoreLocation refuses a location that is neither a PostgreSQL URL
// nor a file, without echoing it (it may hold a password), and says
// whether it is PostgreSQL.
func checkStoreLocation(loc string) (pg bool, err error) {
	switch scheme, _, isURL := strings.Cut(loc, "://"); {
	case postgres.LooksLikeKeywords(loc):
		return false, usageErrorf("give PostgreSQL as a URL, postgres://user@host:5432/database?sslmode=verify-full (the password in PGPASSWORD or ~/.pgpass), not as keyword=value pairs")
	case postgres.IsDSN(loc):
		return true, nil
	case isURL && !strings.ContainsAny(scheme, "/\\"):
		return false, usageErrorf("the user base is a postgres:// URL (in lower case) or an SQLite file, not a %s:// URL", scheme)
	}
	return false, nil
}

// openStore opens the user base that -db (dbFlag) or $ROSTER_DB names,
// else the SQLite file in the data folder dir, bringing its schema up to
// date. The data folder is made in any case: it holds the keys.
func openStore(ctx context.Context, a *app, dbFlag, dir string) (*sqlstore.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder %s: %w", dir, err)
	}
	loc := storeLocation(a, dbFlag, dir)
	if pg, err := checkStoreLocation(loc); err != nil || pg {
		if err != nil {
			return nil, err
		}
		return postgres.Open(ctx, loc)
	}
	return openSQLite(loc)
}

// openSQLite opens (creating if needed) an SQLite user base, private to
// its owner: the database files 0600, even in a folder that existed
// before.
func openSQLite(path string) (*sqlstore.DB, error) {
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the user base %s: %w", path, err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("cannot make %s private: %w", f, err)
		}
	}
	return db, nil
}

// openForDryRun opens the user base to read it, or, when there is none
// yet, an empty one in memory: a dry run creates no files.
func openForDryRun(ctx context.Context, a *app, dbFlag, dir string) (*sqlstore.DB, error) {
	loc := storeLocation(a, dbFlag, dir)
	if pg, err := checkStoreLocation(loc); err != nil || pg {
		if err != nil {
			return nil, err
		}
		return postgres.Open(ctx, loc)
	}
	if _, err := os.Stat(loc); errors.Is(err, fs.ErrNotExist) {
		return sqlite.Open(":memory:")
	}
	return openSQLite(loc)
}

// secretKey returns the key that seals source passwords at rest: from
// ROSTER_SECRET_KEY (32 bytes, base64; or the file ROSTER_SECRET_KEY_FILE
// names, or the systemd credential secret-key), else secret.key in the
// data folder, made on first use (mode 0600) when create is set. Keep the
// key apart from database backups: together they open the passwords.
func secretKey(a *app, dir string, create bool) ([]byte, error) {
	v, from, err := secretSetting(a, "ROSTER_SECRET_KEY", "secret-key")
	if err != nil {
		return nil, err
	}
	if v == "" {
		return datadir.KeyFile(filepath.Join(dir, datadir.SecretKeyName), "secret key", create)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(k) != 32 {
		return nil, usageErrorf("the secret key from %s must be 32 bytes in base64 (openssl rand -base64 32)", from)
	}
	return k, nil
}

// secretSealer returns the AES-GCM cipher that seals source passwords at
// rest, under secretKey.
func secretSealer(a *app, dir string) (cipher.AEAD, error) {
	key, err := secretKey(a, dir, true)
	if err != nil {
		return nil, err
	}
	return datadir.Sealer(key)
}
