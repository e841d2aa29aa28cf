package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
)

// config is roster's configuration file (JSON). Secrets do not have to be
// in it: each source's password can come from a file or the environment.
type config struct {
	DataDir string         `json:"data_dir"`
	Sources []sourceConfig `json:"sources"`
}

// sourceConfig is a source in the configuration: roster's one written
// format for a source (roster.SourceSettings), plus where to read what a
// file should not hold: the password (a file, or an environment
// variable) and the CA certificate (a file).
type sourceConfig struct {
	roster.SourceSettings
	PasswordFile string `json:"password_file"` // first line of this file
	PasswordEnv  string `json:"password_env"`  // name of an environment variable
	CAFile       string `json:"ca_file"`
}

// loadConfig reads and checks the configuration file. Unknown fields are
// refused, so that a typo does not silently fall back to a default.
func loadConfig(a *app, path string) (*config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("cannot read the configuration: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c config
	if err := dec.Decode(&c); err != nil {
		return nil, usageErrorf("the configuration %s is not valid: %v", path, err)
	}
	for _, s := range c.Sources {
		if s.Password.IsSet() {
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				a.log.Warn("the configuration holds a password and can be read by other users; chmod 600 it, or use password_file", "file", path)
			}
		}
	}
	if c.DataDir != "" && !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
	}
	return &c, nil
}

// source turns one configured source into a validated roster.Source.
func (sc *sourceConfig) source(a *app) (*roster.Source, error) {
	if sc.Name == "" {
		return nil, usageErrorf("a source in the configuration has no name")
	}
	src, err := sc.SourceSettings.Source()
	if err != nil {
		return nil, usageErrorf("source %s: %s", sc.Name, roster.ErrorMessage(err))
	}
	// The written format has them, for roster serve; a sync from a
	// configuration neither schedules nor writes back, and says so
	// rather than seem to honour them.
	if src.FullSchedule != "" || src.IncrementalInterval != 0 || !src.WriteBack.IsZero() {
		a.log.Warn("full_schedule, incremental_interval and write_back take effect for sources set up in roster serve; roster sync from a configuration file does not schedule or write back", "source", sc.Name)
	}
	switch {
	case sc.PasswordFile != "":
		pw, err := readSecretFile(a, sc.PasswordFile)
		if err != nil {
			return nil, err
		}
		src.Password = pw
	case sc.PasswordEnv != "":
		src.Password = roster.Secret(a.getenv(sc.PasswordEnv))
		if !src.Password.IsSet() {
			return nil, usageErrorf("source %s: the environment variable %s holding the password is not set", sc.Name, sc.PasswordEnv)
		}
	}
	if sc.CAFile != "" {
		b, err := readCAFile(sc.CAFile)
		if err != nil {
			return nil, err
		}
		src.Trust.CAPEM = b
	}
	err = src.Validate()
	if err == nil {
		err = ldap.CheckFilter(src.UserFilter)
	}
	if err != nil {
		return nil, usageErrorf("source %s: %s", sc.Name, roster.ErrorMessage(err))
	}
	return src, nil
}
