package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster/sqlite"
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

// openStore opens (creating if needed) the SQLite user base in dir,
// private to its owner.
func openStore(dir string) (*sqlite.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder %s: %w", dir, err)
	}
	db, err := sqlite.Open(filepath.Join(dir, "roster.db"))
	if err != nil {
		return nil, fmt.Errorf("cannot open the user base in %s: %w", dir, err)
	}
	return db, nil
}

// printCodeHasher returns the keyed hash print codes are stored under.
// The key is 32 random bytes in the data folder (mode 0600), made on
// first use: without it a stolen database does not reveal any code, and
// a lookup by code still works.
func printCodeHasher(dir string) (func(string) string, error) {
	path := filepath.Join(dir, "print-code.key")
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, key, 0o600, false); err != nil {
			// Another process made it first: use theirs.
			if key, err = os.ReadFile(path); err != nil {
				return nil, err
			}
		}
	} else if err != nil {
		return nil, fmt.Errorf("cannot read the print code key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("the print code key %s is damaged (%d bytes)", path, len(key))
	}
	return func(code string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(code))
		return hex.EncodeToString(m.Sum(nil))
	}, nil
}
