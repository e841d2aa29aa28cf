package pfx

// Real files written by Microsoft tools (testdata/microsoft, see its
// README.md for sources, producers and passwords): each gets its verdict,
// rule by rule, and none that can be read is called unreadable.

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/rosterhq/roster"
)

const corpusDir = "testdata/microsoft"

// corpusFile is one file of the corpus and what roster says of it, as
// of now (2026-11-25), without -domain, as an admin's first run would be.
type corpusFile struct {
	file     string
	password roster.Secret
	// notPass is each rule that does not pass, with its status; every
	// other rule passes.
	notPass map[string]Status
	// says holds words a rule's message must carry: the cause named.
	says map[string][]string
}

// withoutDomain marks the rules that cannot run on a certificate that names no
// managed domain in a wildcard, when none is given.
func withoutDomain(m map[string]Status) map[string]Status {
	for _, id := range []string{"CRT-05", "DOM-01", "DOM-03"} {
		m[id] = Skip
	}
	return m
}

var corpus = []corpusFile{
	{"windows-3des-zeropad.pfx", "testcertificate",
		withoutDomain(map[string]Status{"CRT-03": Fail, "CRT-04": Fail}),
		map[string][]string{
			"PFX-06": {"key TripleDES-SHA1; certificates TripleDES-SHA1; MAC SHA1"},
			"PFX-09": {"8 zero bytes follow the PKCS#12 structure"},
			"CRT-13": {"the chain up to NDX Test Root CA is in the file, and verifies"},
		}},
	{"windows-rc2.pfx", "testcertificate",
		withoutDomain(map[string]Status{"PFX-06": Warn, "CRT-03": Fail, "CRT-04": Fail}),
		map[string][]string{"PFX-06": {"certificates RC2-40-SHA1"}, "PFX-09": {"nothing follows"}}},
	{"windows-capi-cng-zeropad.pfx", "PLACEHOLDER",
		withoutDomain(map[string]Status{"CRT-03": Fail, "CRT-04": Fail, "CRT-13": Warn}),
		map[string][]string{
			"PFX-04": {"one private key, stored 2 times", "Microsoft Enhanced Cryptographic Provider v1.0; Microsoft Software Key Storage Provider", "the same key", "Entra DS does not mind"},
			"PFX-09": {"8 zero bytes"},
			"CRT-13": {"the chain is missing", "NDX Test Root CA"},
		}},
	{"dotnet-negative-serial.pfx", "12345",
		withoutDomain(map[string]Status{"PFX-06": Warn, "CRT-02": Fail, "CRT-03": Fail, "CRT-04": Fail, "CRT-06": Fail, "CRT-07": Fail,
			"CRT-09": Fail, "CRT-10": Skip, "CRT-11": Warn, "CRT-14": Fail}),
		map[string][]string{
			"CRT-02": {"1024 bits"},
			"CRT-09": {"expired on 2011-04-01"},
			"CRT-11": {"self-signed with SHA1-RSA"},
			"CRT-14": {"-2A4A43E3BA75AA77BA400AE34B200CE4 is negative"},
		}},
	{"dotnet-sha1-chain.pfx", "test",
		withoutDomain(map[string]Status{"PFX-06": Warn, "CRT-02": Fail, "CRT-03": Fail, "CRT-04": Fail, "CRT-11": Fail, "CRT-13": Warn}),
		map[string][]string{
			"CRT-11": {"SHA1-RSA, a broken hash"},
			"CRT-13": {"the chain up to MS Passport Test Root CA is in the file, but does not verify", "test.local (SHA1-RSA) and MS Passport Test Sub CA (SHA1-RSA)"},
		}},
	{"dotnet-expired-ca.pfx", "",
		withoutDomain(map[string]Status{"PFX-02": Fail, "PFX-06": Warn, "PFX-07": Skip, "CRT-02": Fail, "CRT-03": Fail, "CRT-04": Fail,
			"CRT-07": Fail, "CRT-09": Fail, "CRT-10": Skip, "CRT-11": Fail, "CRT-13": Warn}),
		map[string][]string{"CRT-13": {"the chain up to wit4 is in the file, but does not verify", "the CA certificate wit4 expired on 2010-11-23"}}},
	{"dotnet-certificate-only.pfx", "",
		withoutDomain(map[string]Status{"PFX-02": Fail, "PFX-04": Fail, "PFX-05": Skip, "PFX-06": Warn, "PFX-07": Skip, "PFX-08": Skip,
			"CRT-03": Fail, "CRT-04": Fail, "CRT-06": Fail, "CRT-07": Fail, "CRT-09": Fail, "CRT-10": Skip, "CRT-11": Fail, "CRT-13": Warn}),
		map[string][]string{
			"PFX-02": {"opens without a password"},
			"PFX-04": {"no private key, only 1 certificate"},
			"PFX-06": {"no private key to judge", "the certificates are encrypted with RC2-40-SHA1"},
			"CRT-13": {"the chain is missing", "Microsoft Code Signing PCA"},
		}},
	{"certmgr-aes256.pfx", "password",
		map[string]Status{"PFX-06": Fail, "CRT-09": Fail, "CRT-10": Skip},
		map[string][]string{"PFX-06": {"key AES256-SHA256; certificates AES256-SHA256; MAC SHA256"}}},
	{"azure-tools.pfx", "",
		withoutDomain(map[string]Status{"PFX-02": Fail, "PFX-06": Warn, "PFX-07": Skip, "CRT-03": Fail, "CRT-04": Fail, "CRT-06": Fail,
			"CRT-07": Fail, "CRT-09": Fail, "CRT-10": Skip, "CRT-11": Warn}),
		map[string][]string{"PFX-02": {"opens without a password"}}},
	{"keyvault.pfx", "",
		withoutDomain(map[string]Status{"PFX-02": Fail, "PFX-06": Warn, "PFX-07": Skip, "CRT-03": Fail, "CRT-04": Fail, "CRT-09": Fail, "CRT-10": Skip}),
		map[string][]string{"PFX-02": {"opens without a password"}, "PFX-06": {"key TripleDES-SHA1; certificates RC2-40-SHA1; MAC SHA1"}}},
	{"certutil-3014.pfx", "",
		withoutDomain(map[string]Status{"PFX-02": Fail, "PFX-06": Warn, "PFX-07": Skip, "CRT-03": Fail, "CRT-04": Fail, "CRT-06": Fail,
			"CRT-07": Fail, "CRT-11": Warn}),
		map[string][]string{"CRT-09": {"valid until 3014-07-25"}, "CRT-10": {"360736 days of validity remain"}}},
	{"certutil-3des.pfx", "",
		withoutDomain(map[string]Status{"PFX-02": Fail, "PFX-07": Skip, "CRT-03": Fail, "CRT-04": Fail, "CRT-06": Fail, "CRT-11": Warn}),
		map[string][]string{"CRT-04": {"(www.fabrikam.com, www.contoso.com) hold no wildcard"}}},
}

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPFXCorpusVerdictsRuleByRule(t *testing.T) {
	for _, f := range corpus {
		t.Run(f.file, func(t *testing.T) {
			r := CheckFile(readCorpus(t, f.file), Options{Password: f.password, Now: now})
			if r.Kind != "pfx" || len(r.Results) != len(titles)-1 {
				t.Fatalf("a %q report of %d rules", r.Kind, len(r.Results))
			}
			for _, res := range r.Results {
				want, ok := f.notPass[res.Rule]
				if !ok {
					want = Pass
				}
				if res.Status != want {
					t.Errorf("%s = %s %q, want %s", res.Rule, res.Status, res.Message, want)
				}
				for _, w := range f.says[res.Rule] {
					if !strings.Contains(res.Message, w) {
						t.Errorf("%s says %q, which does not name %q", res.Rule, res.Message, w)
					}
				}
			}
		})
	}
}

// opensslReads says whether OpenSSL opens a file with its password: the
// reader most admins would try next.
func opensslReads(t *testing.T, path string, pw roster.Secret) (bool, bool) {
	if _, err := exec.LookPath("openssl"); err != nil {
		return false, false
	}
	cmd := exec.Command("openssl", "pkcs12", "-legacy", "-in", path, "-passin", "stdin", "-noout")
	cmd.Stdin = strings.NewReader(pw.Reveal() + "\n")
	return cmd.Run() == nil, true
}

// Every file of the folder, listed in the table or not: none that can be
// read is called unreadable, and every rule's status is recorded.
func TestPFXCorpusNoReadableFileIsCalledUnreadable(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(readCorpus(t, "README.md"))
	n := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".pfx" {
			continue
		}
		n++
		i := slices.IndexFunc(corpus, func(f corpusFile) bool { return f.file == e.Name() })
		if i < 0 {
			t.Errorf("%s has no expected verdict in the corpus table", e.Name())
			continue
		}
		if strings.Count(readme, "`"+e.Name()+"`") < 2 {
			t.Errorf("%s is not in README.md's tables of producers and sources", e.Name())
		}
		f := corpus[i]
		r := CheckFile(readCorpus(t, f.file), Options{Password: f.password, Now: now})
		var line []string
		for _, res := range r.Results {
			line = append(line, res.Rule+" "+string(res.Status))
		}
		t.Logf("%s: %s", f.file, strings.Join(line, ", "))
		if res := status(r, "PFX-01"); res.Status != Pass {
			t.Errorf("%s is called unreadable: %s", f.file, res.Message)
		}
		if r.Certificate == nil {
			t.Errorf("%s: no certificate was read", f.file)
		}
		if ok, ran := opensslReads(t, filepath.Join(corpusDir, f.file), f.password); ran && !ok {
			t.Errorf("%s: OpenSSL does not open it with its password; is the corpus damaged?", f.file)
		}
	}
	if n != len(corpus) {
		t.Errorf("%d files in %s, %d in the table", n, corpusDir, len(corpus))
	}
}

// Where go-pkcs12 reads a file too, roster's own reading finds the same
// key and certificates.
func TestPFXDecodeAgreesWithGoPKCS12(t *testing.T) {
	read := 0
	for _, f := range corpus {
		der := readCorpus(t, f.file)
		key, leaf, cas, err := pkcs12.DecodeChain(der, f.password.Reveal())
		if err != nil {
			t.Logf("%s: go-pkcs12 cannot read it: %v", f.file, err)
			continue
		}
		read++
		c, err := Decode(der, f.password)
		if err != nil {
			t.Errorf("%s: go-pkcs12 reads it, Decode fails: %v", f.file, err)
			continue
		}
		if !sameKey(c.Key, key) {
			t.Errorf("%s: another key than go-pkcs12's", f.file)
		}
		all := append([]*x509.Certificate{leaf}, cas...)
		mine := append([]*x509.Certificate{c.Leaf}, c.Others...)
		if len(all) != len(mine) {
			t.Errorf("%s: %d certificates, go-pkcs12 %d", f.file, len(mine), len(all))
		}
		for _, g := range all {
			if !slices.ContainsFunc(mine, func(m *x509.Certificate) bool { return m.Equal(g) }) {
				t.Errorf("%s: go-pkcs12's certificate %s is not among Decode's", f.file, g.Subject)
			}
		}
	}
	if read < 6 {
		t.Errorf("go-pkcs12 read only %d files of the corpus", read)
	}
}

// What go-pkcs12 could not read, Decode reads, and says why a file is
// not a server's PFX.
func TestPFXDecodeReadsWhatWindowsWrites(t *testing.T) {
	t.Run("zero padding and two copies of a key make one key", func(t *testing.T) {
		c, err := Decode(readCorpus(t, "windows-capi-cng-zeropad.pfx"), "PLACEHOLDER")
		if err != nil {
			t.Fatal(err)
		}
		if c.KeyCopies != 2 || len(c.KeyProviders) != 2 || len(c.Others) != 0 || !c.KeyMatches || c.Structure.Trailing != 8 || !c.Structure.TrailingZero {
			t.Fatalf("copies %d %q, others %d, matches %v, trailing %d", c.KeyCopies, c.KeyProviders, len(c.Others), c.KeyMatches, c.Structure.Trailing)
		}
	})
	t.Run("a negative serial is read", func(t *testing.T) {
		c, err := Decode(readCorpus(t, "dotnet-negative-serial.pfx"), "12345")
		if err != nil {
			t.Fatal(err)
		}
		if c.Leaf.SerialNumber.Sign() >= 0 || !selfSigned(c.Leaf) || !belongs(c.Key, c.Leaf) {
			t.Fatalf("serial %v, self-signed %v", c.Leaf.SerialNumber, selfSigned(c.Leaf))
		}
		if _, err := x509.ParseCertificate(c.Leaf.Raw); err == nil {
			t.Fatal("Go parses negative serials in this process: the scoped reading is not tested (GODEBUG=x509negativeserial=1?)")
		}
	})
	t.Run("a file without a key fails PFX-04", func(t *testing.T) {
		_, err := Decode(readCorpus(t, "dotnet-certificate-only.pfx"), "")
		if failedRule(err) != "PFX-04" || !errors.Is(err, errNoKey) {
			t.Fatalf("Decode = %v, want PFX-04, no key", err)
		}
	})
	t.Run("a wrong password fails PFX-03", func(t *testing.T) {
		_, err := Decode(readCorpus(t, "windows-rc2.pfx"), "not-it")
		if failedRule(err) != "PFX-03" {
			t.Fatalf("Decode = %v, want PFX-03", err)
		}
	})
}

// A .cer with a negative serial is read too, and fails CRT-14 alone
// among the rules that concern serials.
func TestPFXNegativeSerialInACertificateFile(t *testing.T) {
	c, err := Decode(readCorpus(t, "dotnet-negative-serial.pfx"), "12345")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"DER": c.Leaf.Raw, "PEM": (&Bundle{Cert: c.Leaf}).CertPEM()} {
		r := CheckFile(data, Options{Now: now})
		if res := status(r, "CER-01"); r.Kind != "certificate" || res.Status != Pass {
			t.Errorf("%s: kind %q, CER-01 %s %q", name, r.Kind, res.Status, res.Message)
		}
		if res := status(r, "CRT-14"); res.Status != Fail || res.Fix == "" {
			t.Errorf("%s: CRT-14 = %s %q", name, res.Status, res.Message)
		}
	}
	if _, err := ParseCertificates((&Bundle{Cert: c.Leaf}).CertPEM()); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("ParseCertificates, which feeds trust stores, = %v; it must still refuse a negative serial", err)
	}
}

// Trailing bytes that are not zero padding warn, and every other rule
// says what it said of the file without them.
func TestPFXTrailingBytesThatAreNotZeroWarn(t *testing.T) {
	der := readCorpus(t, "windows-3des-zeropad.pfx")
	clean := CheckFile(der, Options{Password: "testcertificate", Now: now})
	junk := append(bytes.TrimRight(der, "\x00"), "and then some"...)
	r := CheckFile(junk, Options{Password: "testcertificate", Now: now})
	if res := status(r, "PFX-09"); res.Status != Warn || !strings.Contains(res.Message, "13 bytes follow") || res.Fix == "" {
		t.Fatalf("PFX-09 = %s %q", res.Status, res.Message)
	}
	for i, res := range r.Results {
		if res.Rule != "PFX-09" && (res.Status != clean.Results[i].Status || res.Message != clean.Results[i].Message) {
			t.Errorf("%s = %s %q; without the junk, %s %q", res.Rule, res.Status, res.Message, clean.Results[i].Status, clean.Results[i].Message)
		}
	}
}

// A wrong password skips only what it hides, and says so; the
// encryption, visible without it, is still judged.
func TestPFXWrongPasswordSkipsOnlyWhatItHides(t *testing.T) {
	r := CheckFile(readCorpus(t, "certmgr-aes256.pfx"), Options{Password: "wrong", Now: now})
	for id, want := range map[string]Status{"PFX-01": Pass, "PFX-02": Pass, "PFX-03": Fail, "PFX-06": Fail, "PFX-09": Pass, "CRT-01": Skip} {
		if res := status(r, id); res.Status != want {
			t.Errorf("%s = %s %q, want %s", id, res.Status, res.Message, want)
		}
	}
	if res := status(r, "PFX-04"); !strings.Contains(res.Message, "the password does not open the file (PFX-03)") {
		t.Errorf("PFX-04 is skipped without saying why: %q", res.Message)
	}
}

// roster cert new writes what Windows' TripleDES-SHA1 export writes,
// the encoding the founding article asks for.
func TestPFXRosterWritesWhatWindowsTripleDESExportWrites(t *testing.T) {
	windows, err := ReadStructure(readCorpus(t, "windows-3des-zeropad.pfx"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(NewOptions{Domain: "aaddscontoso.com", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	der, err := b.PFX(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := ReadStructure(der)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ours.ShroudedKeys, windows.ShroudedKeys) || !slices.Equal(ours.EncryptedSafes, windows.EncryptedSafes) ||
		ours.MAC != windows.MAC || ours.KeyBags != windows.KeyBags || ours.Version != windows.Version || ours.Trailing != 0 {
		t.Fatalf("roster writes %+v, Windows %+v", ours, windows)
	}
}
