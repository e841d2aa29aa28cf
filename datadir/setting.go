package datadir

import (
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster"
)

// Setting reads a secret setting from, in order: the environment
// variable env; a file that env+"_FILE" names (Docker secrets); or the
// systemd credential cred ($CREDENTIALS_DIRECTORY/cred, from the unit's
// LoadCredential=), so that a service's secret is in neither its unit
// file nor its environment. A file's one trailing newline is dropped, as
// editors and echo leave one. It returns "" when none is set, and where
// the value came from, for messages.
//
// Errors: a file named but unreadable (never an empty secret instead).
func Setting(getenv func(string) string, env, cred string) (value, from string, err error) {
	if v := getenv(env); v != "" {
		return v, env, nil
	}
	read := func(path, what string) (string, string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", "", fmt.Errorf("cannot read %s %s: %w", what, path, err)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		return v, what + " " + path, nil
	}
	if p := getenv(env + "_FILE"); p != "" {
		return read(p, env+"_FILE")
	}
	if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		v, from, err := read(filepath.Join(dir, cred), "the systemd credential")
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", nil // the unit does not load this one
		}
		return v, from, err
	}
	return "", "", nil
}

// SecretKey returns the key that seals source passwords at rest: from
// ROSTER_SECRET_KEY (32 bytes, base64; or the file ROSTER_SECRET_KEY_FILE
// names, or the systemd credential secret-key), else secret.key in the
// data folder dir, made on first use (mode 0600) when create is set. Keep
// the key apart from database backups: together they open the passwords.
//
// Errors: EINVALID for a setting that is not 32 bytes in base64; the
// errors of Setting and KeyFile.
func SecretKey(dir string, getenv func(string) string, create bool) ([]byte, error) {
	v, from, err := Setting(getenv, "ROSTER_SECRET_KEY", "secret-key")
	if err != nil {
		return nil, err
	}
	if v == "" {
		return KeyFile(filepath.Join(dir, SecretKeyName), "secret key", create)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(k) != 32 {
		return nil, roster.Errorf(roster.EINVALID, "the secret key from %s must be 32 bytes in base64 (openssl rand -base64 32)", from)
	}
	return k, nil
}

// SecretSealer returns the AES-GCM cipher that seals source passwords at
// rest, under SecretKey (made if need be).
func SecretSealer(dir string, getenv func(string) string) (cipher.AEAD, error) {
	key, err := SecretKey(dir, getenv, true)
	if err != nil {
		return nil, err
	}
	return Sealer(key)
}
