package pfx_test

// PFX files made by the real tools admins and print servers use: OpenSSL
// (with -legacy and with its AES default) and Java's keytool; and roster's
// own files opened by both.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/pfx"
)

const peerPassword = "Peer-Pass-42"

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// opensslCert makes a key and a wildcard certificate for corp.test.
func opensslCert(t *testing.T, dir string, extra ...string) {
	t.Helper()
	args := append([]string{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
		"-days", "365", "-subj", "/CN=*.corp.test",
		"-addext", "subjectAltName=DNS:*.corp.test,DNS:corp.test",
		"-addext", "keyUsage=digitalSignature,keyEncipherment",
		"-addext", "extendedKeyUsage=serverAuth"}, extra...)
	run(t, dir, "openssl", args...)
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(peerPassword), 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path string) *pfx.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pfx.CheckFile(data, pfx.Options{Password: peerPassword, Domain: "corp.test"})
}

func result(r *pfx.Report, rule string) pfx.Result {
	for _, res := range r.Results {
		if res.Rule == rule {
			return res
		}
	}
	return pfx.Result{}
}

func TestOpenSSLFiles(t *testing.T) {
	labenv.RequireCommands(t, "openssl")
	dir := t.TempDir()
	opensslCert(t, dir, "-sha256")
	export := func(out string, extra ...string) {
		run(t, dir, "openssl", append([]string{"pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-out", out, "-passout", "file:pw"}, extra...)...)
	}
	export("legacy.pfx", "-legacy")
	export("default.pfx")
	export("des.pfx", "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1")
	export("pbes2-des.pfx", "-certpbe", "des-ede3-cbc", "-keypbe", "des-ede3-cbc")
	export("des-sha256mac.pfx", "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES")

	tests := []struct {
		file       string
		wantStatus pfx.Status
		want       string
	}{
		// OpenSSL 3's -legacy: key 3DES, certificates RC2-40. Readable,
		// but not what Windows' TripleDES-SHA1 export does.
		{"legacy.pfx", pfx.Warn, "certificates RC2-40-SHA1"},
		// OpenSSL 3's default is AES-256 with PBKDF2-SHA256: Entra DS refuses it.
		{"default.pfx", pfx.Fail, "AES256-SHA256"},
		{"des.pfx", pfx.Pass, "key TripleDES-SHA1; certificates TripleDES-SHA1; MAC SHA1"},
		// 3DES through PBES2 is not the PKCS#12 TripleDES-SHA1 Entra DS takes.
		{"pbes2-des.pfx", pfx.Fail, "key PBES2 TripleDES-CBC-SHA256"},
		// The right ciphers with OpenSSL 3's SHA-256 MAC: not Windows' export.
		{"des-sha256mac.pfx", pfx.Warn, "MAC SHA256"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := checkFile(t, filepath.Join(dir, tt.file))
			res := result(r, "PFX-06")
			if res.Status != tt.wantStatus || !strings.Contains(res.Message, tt.want) {
				t.Fatalf("PFX-06 = %s %q, want %s mentioning %q", res.Status, res.Message, tt.wantStatus, tt.want)
			}
			for _, other := range r.Results {
				// go-pkcs12 cannot decrypt PBES2 with 3DES: PFX-01 says so.
				unreadable := tt.file == "pbes2-des.pfx" && other.Rule == "PFX-01"
				if other.Rule != "PFX-06" && other.Status == pfx.Fail && !unreadable {
					t.Errorf("%s fails: %s", other.Rule, other.Message)
				}
			}
		})
	}
}

// SHA-1 fails on a CA-issued certificate, whose CA's signature clients
// check, and warns on a self-signed one, which they trust as it is.
func TestOpenSSLSHA1CertificatesCRT11(t *testing.T) {
	labenv.RequireCommands(t, "openssl")
	dir := t.TempDir()
	opensslCert(t, dir, "-sha1")
	r := checkFile(t, filepath.Join(dir, "c.pem"))
	if res := result(r, "CRT-11"); res.Status != pfx.Warn || !strings.Contains(res.Message, "self-signed with SHA1-RSA") {
		t.Fatalf("self-signed: CRT-11 = %s %q, want a SHA-1 warning", res.Status, res.Message)
	}
	run(t, dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
		"-days", "365", "-subj", "/CN=Corp SHA-1 CA", "-sha1")
	run(t, dir, "openssl", "req", "-new", "-key", "k.pem", "-subj", "/CN=*.corp.test", "-out", "leaf.csr")
	run(t, dir, "openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "7",
		"-days", "200", "-sha1", "-out", "leaf.pem")
	r = checkFile(t, filepath.Join(dir, "leaf.pem"))
	if res := result(r, "CRT-11"); res.Status != pfx.Fail || !strings.Contains(res.Message, "SHA1-RSA, a broken hash") {
		t.Fatalf("CA-issued: CRT-11 = %s %q, want a SHA-1 failure", res.Status, res.Message)
	}
}

func TestKeytoolFiles(t *testing.T) {
	labenv.RequireCommands(t, "keytool")
	dir := t.TempDir()
	gen := func(out string, jopts ...string) {
		args := append(jopts, "-genkeypair", "-alias", "ldaps", "-keyalg", "RSA", "-keysize", "2048", "-storetype", "PKCS12",
			"-dname", "CN=*.corp.test", "-ext", "SAN=dns:*.corp.test,dns:corp.test",
			"-ext", "KU=digitalSignature,keyEncipherment", "-ext", "EKU=serverAuth",
			"-validity", "365", "-keystore", out, "-storepass", peerPassword)
		run(t, dir, "keytool", args...)
	}
	gen("default.p12")
	gen("legacy.p12", "-J-Dkeystore.pkcs12.legacy")

	tests := []struct {
		file       string
		wantStatus pfx.Status
		want       string
	}{
		// Java 12 and later protect PKCS#12 keystores with AES-256 by default.
		{"default.p12", pfx.Fail, "AES256"},
		{"legacy.p12", pfx.Warn, "key TripleDES-SHA1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := checkFile(t, filepath.Join(dir, tt.file))
			if res := result(r, "PFX-06"); res.Status != tt.wantStatus || !strings.Contains(res.Message, tt.want) {
				t.Fatalf("PFX-06 = %s %q, want %s mentioning %q", res.Status, res.Message, tt.wantStatus, tt.want)
			}
			if r.Certificate == nil || r.Certificate.Subject != "CN=*.corp.test" {
				t.Fatalf("the keytool certificate was not read: %+v", r.Certificate)
			}
			for _, id := range []string{"PFX-03", "PFX-04", "PFX-05", "CRT-03", "CRT-04", "CRT-06", "CRT-07"} {
				if res := result(r, id); res.Status != pfx.Pass {
					t.Errorf("%s = %s %q", id, res.Status, res.Message)
				}
			}
		})
	}
}

// What roster writes must open in the tools that consume it.
func TestRosterFilesOpenInOpenSSLAndKeytool(t *testing.T) {
	labenv.RequireCommands(t, "openssl", "keytool")
	dir := t.TempDir()
	b, err := pfx.New(pfx.NewOptions{Domain: "corp.test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	der, err := b.PFX(roster.Secret(peerPassword))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "corp.test.pfx")
	if err := os.WriteFile(path, der, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(peerPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	info := run(t, dir, "openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin", "file:pw")
	for _, want := range []string{"MAC: sha1", "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC", "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC"} {
		if !strings.Contains(info, want) {
			t.Errorf("openssl pkcs12 -info lacks %q:\n%s", want, info)
		}
	}
	list := run(t, dir, "keytool", "-list", "-storetype", "PKCS12", "-keystore", path, "-storepass", peerPassword)
	if !strings.Contains(list, "PrivateKeyEntry") || !strings.Contains(list, pfx.Fingerprint(b.Cert)) {
		t.Errorf("keytool -list does not show the key entry with the certificate's fingerprint:\n%s", list)
	}
}
