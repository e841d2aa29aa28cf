package pfx

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const testPassword roster.Secret = "Correct-Horse-1"

// RSA keys are slow to make; the tests share a few.
var (
	keysOnce       sync.Once
	key2048, key1k *rsa.PrivateKey
	keyOther       *rsa.PrivateKey
	keyEC          *ecdsa.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		key2048, _ = rsa.GenerateKey(rand.Reader, 2048)
		keyOther, _ = rsa.GenerateKey(rand.Reader, 2048)
		key1k, _ = rsa.GenerateKey(rand.Reader, 1024)
		keyEC, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
}

// spec describes a certificate; the zero changes give one that passes
// every rule for corp.test.
type spec struct {
	key       crypto.Signer
	cn        string
	sans      []string
	ku        x509.KeyUsage
	eku       []x509.ExtKeyUsage
	notBefore time.Time
	notAfter  time.Time
	sigAlg    x509.SignatureAlgorithm
	isCA      bool
	issuer    *x509.Certificate
	issuerKey crypto.Signer
}

func good() spec {
	return spec{
		key: key2048, cn: "*.corp.test", sans: []string{"*.corp.test", "corp.test"},
		ku:  x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, notBefore: now.Add(-time.Hour),
		notAfter: now.AddDate(1, 0, 0), sigAlg: x509.SHA256WithRSA,
	}
}

func (s spec) make(t testing.TB) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: s.cn}, DNSNames: s.sans,
		KeyUsage: s.ku, ExtKeyUsage: s.eku, NotBefore: s.notBefore, NotAfter: s.notAfter, SignatureAlgorithm: s.sigAlg,
		IsCA: s.isCA, BasicConstraintsValid: s.isCA,
	}
	parent, signer := tmpl, s.key
	if s.issuer != nil {
		parent, signer = s.issuer, s.issuerKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// caAndLeaf returns a root CA and a good server certificate it issued.
func caAndLeaf(t testing.TB) (ca, leaf *x509.Certificate) {
	t.Helper()
	ca = spec{key: keyOther, cn: "Corp Root CA", ku: x509.KeyUsageCertSign, notBefore: now.Add(-time.Hour),
		notAfter: now.AddDate(5, 0, 0), sigAlg: x509.SHA256WithRSA, isCA: true}.make(t)
	s := good()
	s.issuer, s.issuerKey = ca, keyOther
	return ca, s.make(t)
}

func encode(t testing.TB, enc *pkcs12.Encoder, key crypto.PrivateKey, cert *x509.Certificate, ca []*x509.Certificate, pw roster.Secret) []byte {
	t.Helper()
	der, err := enc.Encode(key, cert, ca, pw.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func status(r *Report, rule string) Result {
	for _, res := range r.Results {
		if res.Rule == rule {
			return res
		}
	}
	return Result{}
}

func TestGoodFilePassesEveryRule(t *testing.T) {
	keys(t)
	der := encode(t, pkcs12.LegacyDES, key2048, good().make(t), nil, testPassword)
	r := CheckFile(der, Options{Password: testPassword, Now: now})
	for _, res := range r.Results {
		if res.Status != Pass {
			t.Errorf("%s %s: %s", res.Rule, res.Status, res.Message)
		}
	}
	if len(r.Results) != len(titles)-1 { // all but CER-01, which is for certificate files
		t.Errorf("%d rules reported, want all %d", len(r.Results), len(titles))
	}
	if r.Domain != "corp.test" || r.DomainSource != "certificate" {
		t.Errorf("domain %q from %q, want corp.test from the certificate", r.Domain, r.DomainSource)
	}
}

// Each bad input fails with its own rule, and says so in words.
func TestBadInputsFailTheirOwnRule(t *testing.T) {
	keys(t)
	goodDER := encode(t, pkcs12.LegacyDES, key2048, good().make(t), nil, testPassword)
	ca, leaf := caAndLeaf(t)

	with := func(change func(*spec)) *x509.Certificate {
		s := good()
		change(&s)
		return s.make(t)
	}
	pfxOf := func(c *x509.Certificate, key crypto.PrivateKey) []byte {
		return encode(t, pkcs12.LegacyDES, key, c, nil, testPassword)
	}
	trustStore, err := pkcs12.LegacyDES.EncodeTrustStore([]*x509.Certificate{ca}, testPassword.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	emptyPW, err := pkcs12.LegacyDES.Encode(key2048, good().make(t), nil, "")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		file []byte
		opt  Options
		rule string
		want string
		st   Status // Fail when empty
	}{
		{"a wrong password", goodDER, Options{Password: "Not-The-Pw-77"}, "PFX-03", "the password is wrong", ""},
		{"no password for a protected file", goodDER, Options{}, "PFX-03", "none was given", ""},
		{"a truncated file", goodDER[:len(goodDER)/2], Options{Password: testPassword}, "PFX-01", "not a readable PKCS#12", ""},
		{"garbage", []byte("this is not a certificate at all"), Options{Password: testPassword}, "PFX-01", "not a readable PKCS#12", ""},
		{"an empty password", emptyPW, Options{}, "PFX-02", "must be protected by a password", ""},
		{"a password with an emoji", goodDER, Options{Password: "pw🔑"}, "PFX-07", "beyond U+FFFF", ""},
		{"a 1024-bit key", pfxOf(with(func(s *spec) { s.key = key1k }), key1k), Options{Password: testPassword}, "CRT-02", "1024 bits", ""},
		{"an expired certificate", pfxOf(with(func(s *spec) { s.notBefore, s.notAfter = now.AddDate(-2, 0, 0), now.AddDate(0, 0, -3) }), key2048), Options{Password: testPassword}, "CRT-09", "expired on 2026-11-22", ""},
		{"a certificate not yet valid", pfxOf(with(func(s *spec) { s.notBefore = now.AddDate(0, 0, 2) }), key2048), Options{Password: testPassword}, "CRT-08", "not valid yet", ""},
		{"three weeks of validity left", pfxOf(with(func(s *spec) { s.notAfter = now.AddDate(0, 0, 21) }), key2048), Options{Password: testPassword}, "CRT-10", "at least the next 3 to 6 months", ""},
		{"no SAN", pfxOf(with(func(s *spec) { s.sans = nil }), key2048), Options{Password: testPassword}, "CRT-04", "no DNS names", ""},
		{"a wrong domain", goodDER, Options{Password: testPassword, Domain: "aaddscontoso.com"}, "CRT-03", "for another domain than the managed domain aaddscontoso.com", ""},
		{"a subject that is not a wildcard", pfxOf(with(func(s *spec) { s.cn = "dc1.corp.test" }), key2048), Options{Password: testPassword, Domain: "corp.test"}, "CRT-03", "not the wildcard CN=*.corp.test", ""},
		{"no key usage for encipherment", pfxOf(with(func(s *spec) { s.ku = x509.KeyUsageDigitalSignature }), key2048), Options{Password: testPassword}, "CRT-06", "must include Digital Signature and Key Encipherment", ""},
		{"no server authentication", pfxOf(with(func(s *spec) { s.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), key2048), Options{Password: testPassword}, "CRT-07", "Server Authentication", ""},
		{"a CA certificate without the leaf's key", trustStore, Options{Password: testPassword}, "PFX-04", "no private key", ""},
		{"a key that belongs to another certificate", pfxOf(good().make(t), keyOther), Options{Password: testPassword}, "PFX-05", "does not belong", ""},
		{"an AES-encrypted PFX", encode(t, pkcs12.Modern2023, key2048, good().make(t), nil, testPassword), Options{Password: testPassword}, "PFX-06", "AES256-SHA256", ""},
		{"an ECDSA key", pfxOf(with(func(s *spec) { s.key, s.sigAlg = keyEC, x509.ECDSAWithSHA256 }), keyEC), Options{Password: testPassword}, "CRT-01", "ECDSA P-256", ""},
		{"a CA-issued SHA-1 signature", pfxOf(with(func(s *spec) { s.sigAlg, s.issuer, s.issuerKey = x509.SHA1WithRSA, ca, keyOther }), key2048), Options{Password: testPassword}, "CRT-11", "SHA1-RSA, a broken hash", ""},
		{"a self-signed SHA-1 signature", pfxOf(with(func(s *spec) { s.sigAlg = x509.SHA1WithRSA }), key2048), Options{Password: testPassword}, "CRT-11", "self-signed with SHA1-RSA", Warn},
		{"a chain stored root first", encode(t, pkcs12.LegacyDES, key2048, ca, []*x509.Certificate{leaf}, testPassword), Options{Password: testPassword}, "PFX-08", "stored CA first", ""},
		{"a CA-issued certificate without its CA", pfxOf(leaf, key2048), Options{Password: testPassword}, "CRT-13", "the chain is missing", Warn},
		{"an onmicrosoft.com domain", pfxOf(with(func(s *spec) { s.cn, s.sans = "*.contoso.onmicrosoft.com", []string{"*.contoso.onmicrosoft.com"} }), key2048), Options{Password: testPassword}, "DOM-01", "no public CA will issue", Warn},
		{"a domain prefix over 15 characters", pfxOf(with(func(s *spec) { s.cn, s.sans = "*.averyveryverylongname.com", []string{"*.averyveryverylongname.com"} }), key2048), Options{Password: testPassword}, "DOM-03", "at most 15", Warn},
		{"no DNS name for the domain itself", pfxOf(with(func(s *spec) { s.sans = []string{"*.corp.test"} }), key2048), Options{Password: testPassword}, "CRT-05", "do not include corp.test itself", Warn},
		{"four months of validity left", pfxOf(with(func(s *spec) { s.notAfter = now.AddDate(0, 4, 0) }), key2048), Options{Password: testPassword}, "CRT-10", "less than the 6 months", Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.Now = now
			r := CheckFile(tt.file, opt)
			res := status(r, tt.rule)
			wantStatus := tt.st
			if wantStatus == "" {
				wantStatus = Fail
			}
			if res.Status != wantStatus || !strings.Contains(res.Message, tt.want) {
				t.Fatalf("%s = %s %q, want %s containing %q", tt.rule, res.Status, res.Message, wantStatus, tt.want)
			}
			if res.Fix == "" {
				t.Errorf("%s gives no fix", tt.rule)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("the report does not marshal: %v", err)
			}
			if strings.Contains(res.Message+res.Fix, opt.Password.Reveal()) && opt.Password.IsSet() {
				t.Fatal("the report reveals the password")
			}
		})
	}
}

// PFX-02 judges the file, not what the admin typed.
func TestPasswordRulesJudgeTheFile(t *testing.T) {
	keys(t)
	cert := good().make(t)
	open, err := pkcs12.LegacyDES.Encode(key2048, cert, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	protected := encode(t, pkcs12.LegacyDES, key2048, cert, nil, testPassword)
	tests := []struct {
		name       string
		file       []byte
		pw         roster.Secret
		wantPFX02  Status
		failedRule string
	}{
		{"an open file checked with a password still fails PFX-02", open, testPassword, Fail, "PFX-02"},
		{"a protected file checked without its password passes PFX-02", protected, "", Pass, "PFX-03"},
		{"a protected file and an emoji password fail PFX-07 only", protected, "pw🔑", Pass, "PFX-07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CheckFile(tt.file, Options{Password: tt.pw, Now: now})
			if res := status(r, "PFX-02"); res.Status != tt.wantPFX02 {
				t.Errorf("PFX-02 = %s %q, want %s", res.Status, res.Message, tt.wantPFX02)
			}
			var failed []string
			for _, res := range r.Results {
				if res.Status == Fail {
					failed = append(failed, res.Rule)
				}
			}
			if len(failed) != 1 || failed[0] != tt.failedRule {
				t.Errorf("failed rules = %v, want only %s", failed, tt.failedRule)
			}
		})
	}
}

func TestUnreadableCertificateFilesFailCER01(t *testing.T) {
	keys(t)
	cert := good().make(t)
	tests := map[string][]byte{
		"a PEM private key alone":         []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		"a DER certificate with garbage":  append(append([]byte{}, cert.Raw...), 0xde, 0xad),
		"a PEM certificate block damaged": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			r := CheckFile(data, Options{Now: now})
			if res := status(r, "CER-01"); r.Kind != "certificate" || res.Status != Fail {
				t.Fatalf("kind %q, CER-01 = %s %q; want a failed certificate read", r.Kind, res.Status, res.Message)
			}
			if r.Count(Fail) != 1 {
				t.Errorf("%d rules failed; the others should be skipped", r.Count(Fail))
			}
		})
	}
}

func TestRootFirstChainStillFindsTheServerCertificate(t *testing.T) {
	keys(t)
	ca, leaf := caAndLeaf(t)
	r := CheckFile(encode(t, pkcs12.LegacyDES, key2048, ca, []*x509.Certificate{leaf}, testPassword), Options{Password: testPassword, Now: now})
	if r.Certificate.Subject != "CN=*.corp.test" {
		t.Fatalf("the checked certificate is %s, want the server's", r.Certificate.Subject)
	}
	if res := status(r, "CRT-13"); res.Status != Pass {
		t.Errorf("CRT-13 = %s %q; the root is in the file, so the chain builds", res.Status, res.Message)
	}
	if res := status(r, "CRT-12"); !strings.Contains(res.Message, "issued by Corp Root CA") {
		t.Errorf("CRT-12 = %q, want the issuer named", res.Message)
	}
	self := CheckFile(encode(t, pkcs12.LegacyDES, key2048, good().make(t), nil, testPassword), Options{Password: testPassword, Now: now})
	if res := status(self, "CRT-12"); !strings.Contains(res.Message, "self-signed: every client must trust its .cer") {
		t.Errorf("CRT-12 for a self-signed certificate = %q", res.Message)
	}
}

func TestCertificateFilesGetOnlyCertificateRules(t *testing.T) {
	keys(t)
	b := &Bundle{Key: key2048, Cert: good().make(t)}
	for name, data := range map[string][]byte{"PEM": b.CertPEM(), "DER": b.Cert.Raw} {
		t.Run(name, func(t *testing.T) {
			r := CheckFile(data, Options{Now: now})
			if r.Kind != "certificate" || r.Failed() {
				t.Fatalf("kind %q, failed %v", r.Kind, r.Failed())
			}
			for _, res := range r.Results {
				if strings.HasPrefix(res.Rule, "PFX") {
					t.Errorf("rule %s applied to a certificate file", res.Rule)
				}
			}
		})
	}
}

func TestCheckChainOrder(t *testing.T) {
	keys(t)
	ca, leaf := caAndLeaf(t)
	if res := status(CheckChain([]*x509.Certificate{leaf, ca}, Options{Now: now}), "CRT-13"); res.Status != Pass {
		t.Errorf("an ordered chain: CRT-13 = %s %q", res.Status, res.Message)
	}
	if res := status(CheckChain([]*x509.Certificate{leaf, good().make(t)}, Options{Now: now}), "CRT-13"); res.Status != Warn {
		t.Errorf("a broken chain: CRT-13 = %s %q, want warn", res.Status, res.Message)
	}
	if r := CheckChain(nil, Options{Now: now}); !r.Failed() {
		t.Error("an empty chain did not fail")
	}
}

// withMACIterations gives a PFX whose MAC asks for n iterations (its
// own count when n is 0).
func withMACIterations(t *testing.T, der []byte, n int) []byte {
	t.Helper()
	var pdu pfxPDU
	var md macData
	if err := unmarshalAll(der, &pdu); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalAll(pdu.MacData.FullBytes, &md); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		md.Iterations = n
	}
	b, err := asn1.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	pdu.MacData = asn1.RawValue{FullBytes: b}
	if der, err = asn1.Marshal(pdu); err != nil {
		t.Fatal(err)
	}
	return der
}

// A file that asks for billions of iterations is refused before any are
// run: go-pkcs12 ran them, for hours.
func TestHugeIterationCountsAreRefused(t *testing.T) {
	keys(t)
	der := encode(t, pkcs12.LegacyDES, key2048, good().make(t), nil, testPassword)
	if r := CheckFile(withMACIterations(t, der, 0), Options{Password: testPassword, Now: now}); r.Failed() {
		t.Fatalf("the file re-encoded with its own count fails: %+v", r.Results)
	}
	start := time.Now()
	r := CheckFile(withMACIterations(t, der, 1<<31-1), Options{Password: testPassword, Now: now})
	if res := status(r, "PFX-01"); res.Status != Fail || !strings.Contains(res.Message, "2147483647 iterations") || res.Fix == "" {
		t.Fatalf("PFX-01 = %s %q", res.Status, res.Message)
	}
	if _, err := Decode(withMACIterations(t, der, MaxIterations+1), testPassword); failedRule(err) != "PFX-01" || !errors.Is(err, errUnsupported) {
		t.Fatalf("Decode = %v, want PFX-01, unsupported", err)
	}
	// Running the iterations takes hours; refusing them, well under a
	// second here: the bound scales with the machine (and -race).
	if took := time.Since(start); took > labenv.Budget(5*time.Second) {
		t.Fatalf("refusing took %s", took)
	}
}

// chainOf returns a root CA, an issuing CA it signed and a server
// certificate the issuing CA signed; change adjusts the issuing CA.
func chainOf(t *testing.T, change func(*spec)) (root, inter, leaf *x509.Certificate) {
	t.Helper()
	root = spec{key: keyOther, cn: "Corp Root CA", ku: x509.KeyUsageCertSign, notBefore: now.AddDate(-1, 0, 0),
		notAfter: now.AddDate(5, 0, 0), sigAlg: x509.SHA256WithRSA, isCA: true}.make(t)
	is := spec{key: keyEC, cn: "Corp Issuing CA", ku: x509.KeyUsageCertSign, notBefore: now.AddDate(-1, 0, 0),
		notAfter: now.AddDate(3, 0, 0), sigAlg: x509.SHA256WithRSA, isCA: true, issuer: root, issuerKey: keyOther}
	if change != nil {
		change(&is)
	}
	inter = is.make(t)
	s := good()
	s.sigAlg, s.issuer, s.issuerKey = x509.ECDSAWithSHA256, inter, keyEC
	return root, inter, s.make(t)
}

// CRT-13 tells a missing chain from one that is there and does not
// verify, and says why.
func TestCertCRT13NamesTheCause(t *testing.T) {
	keys(t)
	root, inter, leaf := chainOf(t, nil)
	oldRoot, oldInter, oldLeaf := chainOf(t, func(s *spec) { s.notBefore, s.notAfter = now.AddDate(-3, 0, 0), now.AddDate(0, 0, -1) })
	sha1Leaf := func() *x509.Certificate {
		s := good()
		s.sigAlg, s.issuer, s.issuerKey = x509.SHA1WithRSA, root, keyOther
		return s.make(t)
	}()
	served := []struct {
		name  string
		chain []*x509.Certificate
		st    Status
		want  string
	}{
		{"a chain sent in order", []*x509.Certificate{leaf, inter, root}, Pass, "each signed by the next"},
		{"a chain without its root, which clients hold", []*x509.Certificate{leaf, inter}, Pass, "each signed by the next"},
		{"a chain sent in the wrong order", []*x509.Certificate{leaf, root, inter}, Warn, "wrong order: *.corp.test was issued by Corp Issuing CA, which it sends in position 3"},
		{"a certificate alone", []*x509.Certificate{leaf}, Warn, "sends only its own certificate"},
		{"a chain with a stranger", []*x509.Certificate{leaf, good().make(t)}, Warn, "is not signed by the next certificate"},
		{"an expired issuing CA", []*x509.Certificate{oldLeaf, oldInter, oldRoot}, Warn, "the CA certificate Corp Issuing CA expired on 2026-11-24"},
		{"a SHA-1 CA signature", []*x509.Certificate{sha1Leaf, root}, Warn, "*.corp.test (SHA1-RSA) use a broken hash"},
		{"a self-signed certificate alone", []*x509.Certificate{good().make(t)}, Pass, "chain of 1"},
	}
	for _, tt := range served {
		t.Run("served: "+tt.name, func(t *testing.T) {
			res := status(CheckChain(tt.chain, Options{Now: now}), "CRT-13")
			if res.Status != tt.st || !strings.Contains(res.Message, tt.want) || (tt.st != Pass && res.Fix == "") {
				t.Fatalf("CRT-13 = %s %q (fix %q), want %s with %q", res.Status, res.Message, res.Fix, tt.st, tt.want)
			}
		})
	}
	files := []struct {
		name  string
		certs []*x509.Certificate // after the leaf
		leaf  *x509.Certificate
		key   crypto.PrivateKey
		st    Status
		want  string
	}{
		{"the whole chain", []*x509.Certificate{inter, root}, leaf, key2048, Pass, "the chain up to Corp Root CA is in the file, and verifies"},
		{"the whole chain, root first", []*x509.Certificate{root, inter}, leaf, key2048, Pass, "verifies"},
		{"no CA at all", nil, leaf, key2048, Warn, "the chain is missing: the file holds no certificate of *.corp.test's issuer Corp Issuing CA"},
		{"no root", []*x509.Certificate{inter}, leaf, key2048, Warn, "the chain is incomplete: the file holds it up to Corp Issuing CA, but not Corp Root CA"},
		{"an expired issuing CA", []*x509.Certificate{oldInter, oldRoot}, oldLeaf, key2048, Warn, "is in the file, but does not verify: the CA certificate Corp Issuing CA expired on 2026-11-24"},
		{"a SHA-1 CA signature", []*x509.Certificate{root}, sha1Leaf, key2048, Warn, "is in the file, but does not verify: the CA signatures on *.corp.test (SHA1-RSA)"},
	}
	for _, tt := range files {
		t.Run("in a file: "+tt.name, func(t *testing.T) {
			r := CheckFile(encode(t, pkcs12.LegacyDES, tt.key, tt.leaf, tt.certs, testPassword), Options{Password: testPassword, Now: now})
			res := status(r, "CRT-13")
			if res.Status != tt.st || !strings.Contains(res.Message, tt.want) || (tt.st != Pass && res.Fix == "") {
				t.Fatalf("CRT-13 = %s %q (fix %q), want %s with %q", res.Status, res.Message, res.Fix, tt.st, tt.want)
			}
		})
	}
}

// Days left are counted in calendar days, far beyond what a
// time.Duration holds.
func TestCertDaysLeftCountsCalendarDays(t *testing.T) {
	tests := []struct {
		name     string
		now, end time.Time
		want     int
	}{
		{"valid to 3014", now, time.Date(3014, 7, 25, 22, 34, 49, 0, time.UTC), 360736},
		{"later today", time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), 0},
		{"just after midnight tomorrow", time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC), 1},
		{"yesterday", now, now.AddDate(0, 0, -1), -1},
		{"a year, across a leap day", time.Date(2027, 11, 25, 12, 0, 0, 0, time.UTC), time.Date(2028, 11, 25, 12, 0, 0, 0, time.UTC), 366},
		{"before 1970", time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 1, 0, 0, 0, time.UTC), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DaysLeft(&x509.Certificate{NotAfter: tt.end}, tt.now); got != tt.want {
				t.Fatalf("DaysLeft = %d, want %d", got, tt.want)
			}
		})
	}
}

// The README's rule table lists every rule roster checks.
func TestPFXReadmeTableListsEveryRule(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skipf("no README: %v", err)
	}
	for _, ti := range titles {
		if ti.id != "CER-01" && !strings.Contains(string(b), "| "+ti.id+" | ") {
			t.Errorf("the README's table of `roster cert check` rules lacks %s (%s)", ti.id, ti.title)
		}
	}
}
