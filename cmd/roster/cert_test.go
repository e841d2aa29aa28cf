package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/pfx"
)

var passwordLine = regexp.MustCompile(`(?m)^  password    ([A-Za-z0-9]{24})$`)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCertNewWritesBothFilesAndShowsAGeneratedPasswordOnce(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, nil, "cert", "new", "-domain", "aaddscontoso.com", "-out", dir)
	if code != exitOK {
		t.Fatalf("cert new = %d\n%s%s", code, out, errOut)
	}
	pfxPath, cerPath := filepath.Join(dir, "aaddscontoso.com.pfx"), filepath.Join(dir, "aaddscontoso.com.cer")
	if m := mode(t, pfxPath); m != 0o600 {
		t.Errorf("the .pfx has mode %o, want 600", m)
	}
	if m := mode(t, cerPath); m != 0o644 {
		t.Errorf("the .cer has mode %o, want 644", m)
	}
	m := passwordLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated password in the output:\n%s", out)
	}
	pw := m[1]
	if n := strings.Count(out+errOut, pw); n != 1 {
		t.Errorf("the generated password appears %d times, want once", n)
	}

	data, _ := os.ReadFile(pfxPath)
	cer, _ := os.ReadFile(cerPath)
	certs, err := pfx.ParseCertificates(cer)
	if err != nil {
		t.Fatal(err)
	}
	r := pfx.CheckFile(data, pfx.Options{Password: secret(pw), Domain: "aaddscontoso.com"})
	if r.Failed() || r.Count(pfx.Warn) > 0 || r.Certificate.SHA256 != pfx.Fingerprint(certs[0]) {
		t.Fatalf("the .pfx does not open with the shown password into the .cer's certificate, passing every rule: %+v", r.Results)
	}
	for _, want := range []string{
		pfx.Thumbprint(certs[0]),
		"az ad ds update --name aaddscontoso.com",
		"--ldaps Enabled --external-access Enabled",
		"TCP 636 only from your print servers",
		"-ca " + cerPath,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}

	code, _, errOut = runCLI(t, nil, "cert", "new", "-domain", "aaddscontoso.com", "-out", dir)
	if code != exitUsage || !strings.Contains(errOut, "already exists") {
		t.Fatalf("a second cert new = %d %q; want a refusal to overwrite", code, errOut)
	}
	if after, _ := os.ReadFile(pfxPath); string(after) != string(data) {
		t.Fatal("the refused run changed the existing .pfx")
	}
	if code, _, _ = runCLI(t, nil, "cert", "new", "-domain", "aaddscontoso.com", "-out", dir, "-force"); code != exitOK {
		t.Fatalf("cert new -force = %d", code)
	}
}

func TestCertNewNeverPrintsAGivenPassword(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	const pw = "Given-Pfx-Password-9"
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	env := map[string]string{"ROSTER_LOG_LEVEL": "debug"}
	code, out, errOut := runCLI(t, env, "cert", "new", "-domain", "corp.test", "-out", dir, "-password-file", pwFile, "-key-size", "3072", "-days", "200")
	if code != exitOK {
		t.Fatalf("cert new = %d\n%s", code, errOut)
	}
	if strings.Contains(out+errOut, pw) {
		t.Fatal("the given password appears in the output or the log")
	}
	data, _ := os.ReadFile(filepath.Join(dir, "corp.test.pfx"))
	r := pfx.CheckFile(data, pfx.Options{Password: pw})
	if res := find(r, "CRT-02"); res.Status != pfx.Pass || !strings.Contains(res.Message, "3072") {
		t.Errorf("CRT-02 = %+v, want a 3072-bit key", res)
	}
	if res := find(r, "CRT-10"); res.Status != pfx.Pass || r.Certificate.DaysLeft < 199 {
		t.Errorf("validity = %d days, want 200", r.Certificate.DaysLeft)
	}
}

func TestCertNewUsageErrors(t *testing.T) {
	dir := t.TempDir()
	emoji := filepath.Join(dir, "emoji")
	os.WriteFile(emoji, []byte("pw🔑"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no domain", []string{}, "-domain is required"},
		{"a bad domain", []string{"-domain", "corp"}, "not a DNS domain"},
		{"too short a validity", []string{"-domain", "corp.test", "-days", "30"}, "from 90 to 3650 days"},
		{"a weak key", []string{"-domain", "corp.test", "-key-size", "1024"}, "2048, 3072 or 4096"},
		{"a password a PFX cannot hold", []string{"-domain", "corp.test", "-password-file", emoji}, "beyond U+FFFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, append([]string{"cert", "new", "-out", dir}, tt.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Fatalf("cert new %q = %d %q, want usage error %q", tt.args, code, errOut, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed runs left files behind: %d entries", len(entries))
	}
}

func TestCertCheckExitStatusAndJSON(t *testing.T) {
	dir := t.TempDir()
	b, err := pfx.New(pfx.NewOptions{Domain: "corp.test"})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := b.PFX("Check-Pw-1")
	aes, _ := pkcs12.Modern2023.Encode(b.Key, b.Cert, nil, "Check-Pw-1")
	os.WriteFile(filepath.Join(dir, "good.pfx"), good, 0o600)
	os.WriteFile(filepath.Join(dir, "aes.pfx"), aes, 0o600)
	env := map[string]string{"ROSTER_PFX_PASSWORD": "Check-Pw-1"}

	if code, out, _ := runCLI(t, env, "cert", "check", filepath.Join(dir, "good.pfx")); code != exitOK || !strings.Contains(out, "Result: 0 failed,") {
		t.Fatalf("check of a good file = %d\n%s", code, out)
	}
	code, out, _ := runCLI(t, env, "cert", "check", filepath.Join(dir, "aes.pfx"), "-domain", "corp.test")
	if code != exitFailure || !strings.Contains(out, "FAIL PFX-06") || !strings.Contains(out, "fix: ") {
		t.Fatalf("check of an AES file = %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, env, "cert", "check", "-json", filepath.Join(dir, "aes.pfx"))
	var r struct {
		File    string
		Kind    string
		Results []pfx.Result
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFailure || r.Kind != "pfx" || len(r.Results) != 25 {
		t.Fatalf("check -json = %d, %v, %d results\n%s", code, err, len(r.Results), out)
	}
	if code, _, errOut := runCLI(t, env, "cert", "check", filepath.Join(dir, "missing.pfx")); code != exitUsage || !strings.Contains(errOut, "cannot read") {
		t.Fatalf("check of a missing file = %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, env, "cert", "check"); code != exitUsage {
		t.Fatalf("check without a file = %d, want %d", code, exitUsage)
	}
}

// The founding article exports its certificate from Windows as
// TripleDES-SHA1. roster cert new writes that encoding, and so does
// OpenSSL 3 with -legacy -descert: both files pass every rule.
func TestCertNewAndItsOpenSSLLegacyReexportPassEveryRule(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("Article-Flow-7\n"), 0o600)
	if code, out, errOut := runCLI(t, nil, "cert", "new", "-domain", "aaddscontoso.com", "-out", dir, "-password-file", pwFile); code != exitOK {
		t.Fatalf("cert new = %d\n%s%s", code, out, errOut)
	}
	passesEveryRule := func(t *testing.T, path string) {
		t.Helper()
		code, out, errOut := runCLI(t, nil, "cert", "check", path, "-domain", "aaddscontoso.com", "-password-file", pwFile, "-json")
		var r pfx.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
			t.Fatalf("cert check %s = %d, %v\n%s%s", path, code, err, out, errOut)
		}
		if len(r.Results) != 25 {
			t.Errorf("%d rules reported", len(r.Results))
		}
		for _, res := range r.Results {
			if res.Status != pfx.Pass {
				t.Errorf("%s: %s %s: %s", filepath.Base(path), res.Rule, res.Status, res.Message)
			}
		}
	}
	pfxPath := filepath.Join(dir, "aaddscontoso.com.pfx")
	passesEveryRule(t, pfxPath)

	labenv.RequireCommands(t, "openssl")
	if out, err := exec.Command("openssl", "list", "-providers", "-provider", "legacy").CombinedOutput(); err != nil {
		if labenv.Required() {
			t.Fatalf("openssl has no legacy provider, which -legacy needs: %v\n%s", err, out)
		}
		t.Skipf("openssl has no legacy provider, which -legacy needs (install OpenSSL 3's legacy module): %v", err)
	}
	pem, again := filepath.Join(dir, "all.pem"), filepath.Join(dir, "again.pfx")
	for _, args := range [][]string{
		{"pkcs12", "-in", pfxPath, "-passin", "file:" + pwFile, "-nodes", "-out", pem},
		{"pkcs12", "-export", "-legacy", "-descert", "-in", pem, "-out", again, "-passout", "file:" + pwFile},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	info, err := exec.Command("openssl", "pkcs12", "-in", again, "-passin", "file:"+pwFile, "-info", "-noout").CombinedOutput()
	for _, want := range []string{"MAC: sha1", "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC", "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC"} {
		if err != nil || !strings.Contains(string(info), want) {
			t.Errorf("the re-export is not what -legacy -descert should write: no %q (%v)\n%s", want, err, info)
		}
	}
	passesEveryRule(t, again)
}

func TestCertProbeTheLab(t *testing.T) {
	env := labenv.Require(t)
	ca := env.Get("LAB_CA_FILE")
	saved := filepath.Join(t.TempDir(), "dc.cer")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"AD by IP with the lab CA verifies for ldaps.corp.test",
			[]string{env.Get("LAB_AD_LDAPS_URL"), "-domain", "corp.test", "-ca", ca}, exitOK,
			[]string{"checked for the name ldaps.corp.test", "trust: TRUSTED", "PASS CRT-03", "the certificate is issued by roster lab CA"}},
		{"AD without the CA is not trusted, and says how to fix it",
			[]string{env.Get("LAB_AD_LDAPS_URL"), "-domain", "corp.test", "-save-cer", saved}, exitFailure,
			[]string{"trust: NOT TRUSTED", "is not trusted", "-pin-sha256 ", "saved in " + saved}},
		{"OpenLDAP over StartTLS",
			[]string{env.Get("LAB_OL_STARTTLS_URL"), "-starttls", "-server-name", env.Get("LAB_OL_SERVER_NAME"), "-ca", ca}, exitOK,
			[]string{"trust: TRUSTED", "subject     CN=*.example.test"}},
		{"-starttls with an ldaps URL is a usage error", []string{env.Get("LAB_AD_LDAPS_URL"), "-starttls"}, exitUsage, nil},
		{"an ldap URL without -starttls is a usage error", []string{env.Get("LAB_AD_STARTTLS_URL")}, exitUsage, []string{"add -starttls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, append([]string{"cert", "probe"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("cert probe = %d, want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
	// The saved certificate is what the fix says it is: with it, the
	// probe trusts the server.
	code, out, _ := runCLI(t, nil, "cert", "probe", env.Get("LAB_AD_LDAPS_URL"), "-domain", "corp.test", "-ca", saved)
	if code != exitOK || !strings.Contains(out, "trust: TRUSTED") {
		t.Fatalf("probe with the saved .cer = %d\n%s", code, out)
	}
}

func find(r *pfx.Report, rule string) pfx.Result {
	for _, res := range r.Results {
		if res.Rule == rule {
			return res
		}
	}
	return pfx.Result{}
}

func TestSecretAndCAFilesAreReadCarefully(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	notCA := filepath.Join(dir, "not-a-ca.pem")
	os.WriteFile(notCA, []byte("hello"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an empty password file is an error, not a generated password", []string{"cert", "new", "-domain", "corp.test", "-out", dir, "-password-file", empty}, "is empty"},
		{"a CA file without a certificate is named", []string{"cert", "probe", "ldaps://127.0.0.1:1", "-ca", notCA}, "the CA file " + notCA},
		{"connect names a bad CA file too", []string{"connect", "-address", "h", "-domain", "corp.test", "-login", "svc", "-password-file", notCA, "-ca", notCA}, "the CA file " + notCA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Fatalf("roster %q = %d %q, want usage error %q", tt.args, code, errOut, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("failed runs left files behind: %d entries", len(entries))
	}
}

func TestPasswordFileWithByteOrderMarkAndCRLF(t *testing.T) {
	env := labenv.Require(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("\ufeff"+env.Get("LAB_BIND_PASSWORD")+"\r\n"), 0o600)
	args := labArgs(env, labenv.AD)
	for i := range args {
		if args[i] == "-password-file" {
			args[i+1] = pwFile
		}
	}
	if code, out, errOut := runCLI(t, nil, append([]string{"connect"}, args...)...); code != exitOK {
		t.Fatalf("connect with a Notepad-style password file = %d\n%s%s", code, out, errOut)
	}
}

func TestCertProbeExplainsAWrongNameAndKeepsFiles(t *testing.T) {
	env := labenv.Require(t)
	ca := env.Get("LAB_CA_FILE")
	code, out, _ := runCLI(t, nil, "cert", "probe", env.Get("LAB_AD_LDAPS_URL"), "-server-name", "dc1.other.test", "-ca", ca)
	if code != exitFailure || !strings.Contains(out, "check the name: give -domain") || strings.Contains(out, "-pin-sha256 ") {
		t.Fatalf("a wrong name = %d; want the name fix and no pinning advice\n%s", code, out)
	}
	code, out, _ = runCLI(t, nil, "cert", "probe", env.Get("LAB_AD_LDAPS_URL"), "-domain", "corp.test", "-ca", ca)
	if code != exitOK || !strings.Contains(out, "verifies against the CA file "+ca) {
		t.Fatalf("the trust line does not name the CA file:\n%s", out)
	}
	existing := filepath.Join(t.TempDir(), "keep.pfx")
	os.WriteFile(existing, []byte("precious"), 0o600)
	code, _, errOut := runCLI(t, nil, "cert", "probe", env.Get("LAB_AD_LDAPS_URL"), "-domain", "corp.test", "-save-cer", existing)
	if b, _ := os.ReadFile(existing); code != exitUsage || string(b) != "precious" {
		t.Fatalf("-save-cer over an existing file = %d %q; the file must be kept", code, errOut)
	}
}
