package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
)

// configSeeds are the configuration files of the README and the tests.
var configSeeds = []string{
	`{
  "data_dir": "/var/lib/roster",
  "sources": [{
    "name": "corp", "type": "entra-ds", "address": "20.54.1.9", "tls": "ldaps", "domain": "aaddscontoso.com",
    "login": "svc-print@aaddscontoso.com", "password_file": "/etc/roster/bind.pw", "ca_file": "/etc/roster/aaddscontoso.com.cer",
    "base_dns": [], "user_filter": "(department=*)", "group_scope": ["CN=Printing,OU=AADDC Users,DC=aaddscontoso,DC=com"],
    "mapping": {"login": "userPrincipalName", "cards": ["pager", "otherPager"], "print_code": "employeeNumber", "extra": ["title"]},
    "disabled_users": "keep",
    "removal": {"action": "disable", "grace": "720h", "threshold_percent": 5, "threshold_count": 10}
  }]
}`,
	`{"sources": [{"name": "x", "type": "openldap", "address": "127.0.0.1:1", "domain": "example.test",
		"login": "uid=a,dc=example,dc=test", "password": "pw", "user_filter": "(department=Sales"}]}`,
	`{"sources": [{"name": "x", "type": "openldap", "address": "127.0.0.1:1", "domain": "example.test", "login": "uid=a,dc=example,dc=test", "password": "pw"}]}`,
	`{"data_dir": "data", "sources": [{"name": "lab", "type": "ad", "address": "dc1.corp.test:636", "tls": "LDAPS", "domain": "corp.test",
		"login": "svc-print", "password_env": "ROSTER_BIND_PASSWORD", "pin_sha256": "AB:CD", "server_name": "dc1.corp.test",
		"connect_timeout": "10s", "timeout": "1m", "run_timeout": "2h", "disabled_users": "skip",
		"removal": {"action": "delete", "grace": "24h"},
		"mapping": {"cards": ["pager"], "card_separators": ";", "card_transforms": [{"op": "hex-to-dec"}, {"op": "pad", "arg": "10"}], "keep_login_case": true}}]}`,
	`{"sources": [{"name": "plain", "type": "ldap", "address": "ldap.example.test", "tls": "plain", "allow_insecure": true,
		"base_dns": ["ou=people,dc=example,dc=test"], "login": "cn=admin,dc=example,dc=test", "password": "pw", "insecure_skip_verify": true}]}`,
	`{"sources": [{"name": "starttls", "type": "openldap", "address": "ldap.example.test:389", "tls": "starttls", "domain": "example.test",
		"login": "uid=svc,ou=system,dc=example,dc=test", "password_file": "bind.pw", "ca_file": "ca.pem", "removal": {"action": "remove"}}]}`,
	`{"sources": [{"name": ""}]}`, `{"bogus": 1}`, `{"sources": [{"name": "x", "timeout": "soon"}]}`, `{"sources": [{"password": "[redacted]"}]}`, `[]`, ``,
}

// testCertPEM is a self-signed certificate, for a CA file.
func testCertPEM(tb testing.TB) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corp Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// FuzzConfig reads a configuration file, with the password and CA files
// it names, as roster sync -config does: it is refused with a usage
// error, or every source it yields validates as a sync needs it.
func FuzzConfig(f *testing.F) {
	ca := testCertPEM(f)
	for i, c := range configSeeds {
		pw := []byte("\ufeffBind-Pw-1\r\nsecond line\n")
		if i%3 == 1 {
			pw = nil
		}
		f.Add([]byte(c), pw, ca)
	}
	f.Add([]byte(configSeeds[5]), []byte(""), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, cfgText, pwFile, caFile []byte) {
		path, pwPath, caPath := filepath.Join(dir, "roster.json"), filepath.Join(dir, "bind.pw"), filepath.Join(dir, "ca.pem")
		for p, b := range map[string][]byte{path: cfgText, pwPath: pwFile, caPath: caFile} {
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var logs bytes.Buffer
		a := &app{stdout: &logs, stderr: &logs, log: newLogger(&logs, "debug"), now: time.Now,
			getenv: func(k string) string { return map[string]string{"ROSTER_BIND_PASSWORD": "Env-Pw-2"}[k] }}
		cfg, err := loadConfig(a, path)
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("loadConfig = %v, not a usage error", err)
			}
			return
		}
		if cfg.DataDir != "" && !filepath.IsAbs(cfg.DataDir) {
			t.Errorf("the data folder %q is relative", cfg.DataDir)
		}
		for i := range cfg.Sources {
			sc := &cfg.Sources[i]
			// The files it names are the ones written above.
			if sc.PasswordFile != "" {
				sc.PasswordFile = pwPath
			}
			if sc.CAFile != "" {
				sc.CAFile = caPath
			}
			src, err := sc.source(a)
			checkSecretKept(t, sc.Password.Reveal(), string(cfgText), fmt.Sprintf("%+v", *sc), err, logs.String())
			if err != nil {
				if !errors.Is(err, errUsage) {
					t.Fatalf("source %q: %v, not a usage error", sc.Name, err)
				}
				continue
			}
			if err := src.Validate(); err != nil {
				t.Fatalf("source %q was taken, but does not validate: %v", sc.Name, err)
			}
			if err := ldap.CheckFilter(src.UserFilter); err != nil {
				t.Fatalf("source %q was taken with a filter that does not compile: %v", sc.Name, err)
			}
			if src.Name != sc.Name || src.TLSMode == "" || src.DisabledUsers != roster.KeepDisabled && src.DisabledUsers != roster.SkipDisabled {
				t.Errorf("source %q: name %q, TLS %q, disabled users %q", sc.Name, src.Name, src.TLSMode, src.DisabledUsers)
			}
			if src.Removal.Delete != (sc.Removal.Action == "delete") {
				t.Errorf("source %q: removal %q, delete %v", sc.Name, sc.Removal.Action, src.Removal.Delete)
			}
			if sc.PasswordFile != "" {
				first, _, _ := strings.Cut(strings.TrimPrefix(string(pwFile), "\ufeff"), "\n")
				if src.Password.Reveal() != strings.TrimRight(first, "\r") {
					t.Errorf("source %q: the password is not the first line of its file", sc.Name)
				}
			}
			if sc.CAFile != "" {
				if _, err := pfx.ParseCertificates(src.Trust.CAPEM); err != nil {
					t.Errorf("source %q was taken with a CA file that holds no certificate: %v", sc.Name, err)
				}
			}
		}
	})
}

// checkSecretKept fails when a password shows in an error or the log:
// one the configuration holds once, that is no part of its other
// settings, and that is long enough, with a letter and a digit, not to
// turn up in a message by chance.
func checkSecretKept(t *testing.T, pw, cfgText, settings string, err error, logs string) {
	t.Helper()
	if len(pw) < 8 || strings.Count(cfgText, pw) != 1 || strings.Contains(settings, pw) ||
		!strings.ContainsAny(pw, "0123456789") || !strings.ContainsFunc(pw, unicode.IsLetter) {
		return
	}
	if err != nil && strings.Contains(err.Error(), pw) || strings.Contains(logs, pw) {
		t.Errorf("the password %q shows in the error %v or the log:\n%s", pw, err, logs)
	}
}
