package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/pfx"
)

// A certificate made by roster cert new must serve LDAPS from a real
// OpenLDAP, and roster cert probe must verify it with the .cer that cert
// new wrote, by IP address and domain as the founding article does.
func TestCertNewServesLDAPSFromOpenLDAPAndProbeVerifiesIt(t *testing.T) {
	tools := labenv.RequireCommands(t, "slapd")
	dir := t.TempDir()
	c := slapdCertificate(t, dir, "Serve-Pw-1")
	writeSlapdConf(t, dir, nil, "")

	ldapPort, ldapsPort := freePort(t), freePort(t)
	startSlapd(t, tools["slapd"], dir, fmt.Sprintf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", ldapPort, ldapsPort), ldapsPort)

	cer := filepath.Join(dir, "corp.test.cer")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"LDAPS by IP and domain", []string{fmt.Sprintf("ldaps://127.0.0.1:%d", ldapsPort), "-domain", "corp.test", "-ca", cer}},
		{"StartTLS by IP and domain", []string{fmt.Sprintf("ldap://127.0.0.1:%d", ldapPort), "-starttls", "-domain", "corp.test", "-ca", cer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, append([]string{"cert", "probe"}, tc.args...)...)
			if code != exitOK || !strings.Contains(out, "trust: TRUSTED") || !strings.Contains(out, "0 failed, 0 warnings") {
				t.Fatalf("cert probe = %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, pfx.Fingerprint(c.Leaf)) {
				t.Fatal("the probe saw another certificate than the one roster made")
			}
		})
	}
}

// slapdCertificate makes a certificate for *.corp.test with roster cert
// new, in dir, and writes its key and certificate as slapd wants them
// (key.pem, cert.pem), taken out of the .pfx an admin would upload, not
// from roster's memory. The .pfx's password is pw, also in dir/pw.
func slapdCertificate(t *testing.T, dir string, pw roster.Secret) *pfx.Contents {
	t.Helper()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(pw.Reveal()), 0o600)
	if code, out, errOut := runCLI(t, nil, "cert", "new", "-domain", "corp.test", "-out", dir, "-password-file", pwFile); code != exitOK {
		t.Fatalf("cert new = %d\n%s%s", code, out, errOut)
	}
	der, _ := os.ReadFile(filepath.Join(dir, "corp.test.pfx"))
	c, err := pfx.Decode(der, pw)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Leaf.Raw}), 0o644)
	return c
}

// writeSlapdConf writes dir/slapd.conf for a private slapd: one mdb
// database for dc=corp,dc=test in dir/db, TLS from slapdCertificate's
// files, the core schema plus the named ones, and extra lines for the
// database (a rootdn, say).
func writeSlapdConf(t *testing.T, dir string, schemas []string, extra string) {
	t.Helper()
	var b strings.Builder
	for _, sc := range append([]string{"core"}, schemas...) {
		fmt.Fprintf(&b, "include /etc/ldap/schema/%s.schema\n", sc)
	}
	fmt.Fprintf(&b, `modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
TLSCertificateFile %[1]s/cert.pem
TLSCertificateKeyFile %[1]s/key.pem
database mdb
suffix "dc=corp,dc=test"
directory %[1]s/db
%[2]s
`, dir, extra)
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startSlapd runs slapd with dir/slapd.conf on the urls, in the
// foreground (-d 0) so that the test owns the process, until the test
// ends, and waits until port answers.
func startSlapd(t *testing.T, slapd, dir, urls string, port int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, slapd, "-d", "0", "-f", filepath.Join(dir, "slapd.conf"), "-h", urls)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); cancel() })
	waitPort(t, port, &out)
}

// corpSlapd is a private slapd for dc=corp,dc=test over LDAPS on
// loopback, whose admin cn=admin,dc=corp,dc=test signs in with the
// password in pwFile; its certificate is dir/corp.test.cer.
type corpSlapd struct {
	port   int
	dir    string
	pwFile string
	cert   *pfx.Contents
}

// startCorpSlapd loads ldif (the suffix entry included) into a private
// slapd with the cosine and inetOrgPerson schemas and runs it until the
// test ends. It skips where slapd is not installed, as lab tests do.
func startCorpSlapd(t *testing.T, ldif string) corpSlapd {
	t.Helper()
	tools := labenv.RequireCommands(t, "slapd", "slapadd")
	s := corpSlapd{dir: t.TempDir()}
	s.cert = slapdCertificate(t, s.dir, "Root-Pw-1")
	s.pwFile = filepath.Join(s.dir, "pw")
	writeSlapdConf(t, s.dir, []string{"cosine", "inetorgperson"}, `rootdn "cn=admin,dc=corp,dc=test"
rootpw Root-Pw-1`)
	if err := os.WriteFile(filepath.Join(s.dir, "data.ldif"), []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tools["slapadd"], "-f", filepath.Join(s.dir, "slapd.conf"), "-l", filepath.Join(s.dir, "data.ldif")).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	s.port = freePort(t)
	startSlapd(t, tools["slapd"], s.dir, fmt.Sprintf("ldaps://127.0.0.1:%d/", s.port), s.port)
	return s
}

// admin signs in to the slapd as its admin, for a test that changes its
// entries; the connection closes with the test.
func (s corpSlapd) admin(t *testing.T) *goldap.Conn {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(s.cert.Leaf)
	conn, err := goldap.DialURL(fmt.Sprintf("ldaps://127.0.0.1:%d", s.port), goldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, ServerName: "ldaps.corp.test"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Bind("cn=admin,dc=corp,dc=test", "Root-Pw-1"); err != nil {
		t.Fatal(err)
	}
	return conn
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int, log fmt.Stringer) {
	t.Helper()
	// Bounded generously: slapd starts in well under a second, but a
	// fresh, busy machine is slower.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("slapd did not open port %d within 30 s:\n%s", port, log)
}
