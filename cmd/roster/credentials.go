package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretSetting reads a secret setting from, in order: the environment
// variable env; a file that env+"_FILE" names (Docker secrets); or the
// systemd credential cred ($CREDENTIALS_DIRECTORY/cred, from the unit's
// LoadCredential=), so that a service's secret is in neither its unit
// file nor its environment. A file's one trailing newline is dropped, as
// editors and echo leave one. It returns "" when none is set, and where
// the value came from, for messages.
func secretSetting(a *app, env, cred string) (value, from string, err error) {
	if v := a.getenv(env); v != "" {
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
	if p := a.getenv(env + "_FILE"); p != "" {
		return read(p, env+"_FILE")
	}
	if dir := a.getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		p := filepath.Join(dir, cred)
		v, from, err := read(p, "the systemd credential")
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", nil // the unit does not load this one
		}
		return v, from, err
	}
	return "", "", nil
}
