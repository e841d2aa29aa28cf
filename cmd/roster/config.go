package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
)

// config is roster's configuration file (JSON). Secrets do not have to be
// in it: each source's password can come from a file or the environment.
type config struct {
	DataDir string         `json:"data_dir"`
	Sources []sourceConfig `json:"sources"`
}

type sourceConfig struct {
	Name               string         `json:"name"`
	Type               string         `json:"type"`
	Address            string         `json:"address"`
	TLS                string         `json:"tls"`
	AllowInsecure      bool           `json:"allow_insecure"`
	Domain             string         `json:"domain"`
	BaseDNs            []string       `json:"base_dns"`
	Login              string         `json:"login"`
	Password           roster.Secret  `json:"password"`      // discouraged: prefer password_file or password_env
	PasswordFile       string         `json:"password_file"` // first line of this file
	PasswordEnv        string         `json:"password_env"`  // name of an environment variable
	CAFile             string         `json:"ca_file"`
	PinSHA256          string         `json:"pin_sha256"`
	ServerName         string         `json:"server_name"`
	InsecureSkipVerify bool           `json:"insecure_skip_verify"`
	ConnectTimeout     duration       `json:"connect_timeout"`
	Timeout            duration       `json:"timeout"`
	RunTimeout         duration       `json:"run_timeout"`
	UserFilter         string         `json:"user_filter"`
	GroupScope         []string       `json:"group_scope"`
	Mapping            roster.Mapping `json:"mapping"`
	DisabledUsers      string         `json:"disabled_users"` // keep (default) or skip
	Removal            struct {
		Action           string   `json:"action"` // disable (default) or delete
		Grace            duration `json:"grace"`
		ThresholdPercent float64  `json:"threshold_percent"`
		ThresholdCount   int      `json:"threshold_count"`
	} `json:"removal"`
}

// duration reads "90s", "2m", "720h" from JSON.
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s, 5m or 720h", b)
	}
	*d = duration(v)
	return nil
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
	src := &roster.Source{
		Name: sc.Name, Type: roster.DirectoryType(strings.ToLower(sc.Type)), Address: sc.Address,
		TLSMode: roster.TLSMode(strings.ToLower(sc.TLS)), AllowInsecure: sc.AllowInsecure, Domain: sc.Domain,
		BaseDNs: sc.BaseDNs, Login: sc.Login, Password: sc.Password,
		Trust:          roster.Trust{PinSHA256: sc.PinSHA256, ServerName: sc.ServerName, SkipVerify: sc.InsecureSkipVerify},
		ConnectTimeout: time.Duration(sc.ConnectTimeout), RequestTimeout: time.Duration(sc.Timeout),
		RunTimeout: time.Duration(sc.RunTimeout),
		UserFilter: sc.UserFilter, GroupScope: sc.GroupScope, Mapping: sc.Mapping,
		DisabledUsers: roster.DisabledUsers(sc.DisabledUsers),
		Removal: roster.RemovalPolicy{Grace: time.Duration(sc.Removal.Grace),
			ThresholdPercent: sc.Removal.ThresholdPercent, ThresholdCount: sc.Removal.ThresholdCount},
	}
	if src.TLSMode == "" {
		src.TLSMode = roster.LDAPS
	}
	if sc.Name == "" {
		return nil, usageErrorf("a source in the configuration has no name")
	}
	switch sc.Removal.Action {
	case "", "disable":
	case "delete":
		src.Removal.Delete = true
	default:
		return nil, usageErrorf("source %s: removal action %q is not disable or delete", sc.Name, sc.Removal.Action)
	}
	switch src.DisabledUsers {
	case "":
		src.DisabledUsers = roster.KeepDisabled
	case roster.KeepDisabled, roster.SkipDisabled:
	default:
		return nil, usageErrorf("source %s: disabled_users %q is not keep or skip", sc.Name, sc.DisabledUsers)
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
	err := src.Validate()
	if err == nil {
		err = ldap.CheckFilter(src.UserFilter)
	}
	if err != nil {
		return nil, usageErrorf("source %s: %s", sc.Name, roster.ErrorMessage(err))
	}
	return src, nil
}
