package pfx

import (
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func TestNewMakesWhatTheArticlesCmdletMakes(t *testing.T) {
	b, err := New(NewOptions{Domain: "AADDSContoso.com", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	c := b.Cert
	checks := []struct {
		what string
		ok   bool
	}{
		{"RSA 2048", b.Key.N.BitLen() == 2048 && c.PublicKey.(*rsa.PublicKey).N.BitLen() == 2048},
		{"SHA-256 signature", c.SignatureAlgorithm == x509.SHA256WithRSA},
		{"subject CN=*.aaddscontoso.com", c.Subject.String() == "CN=*.aaddscontoso.com"},
		{"self-signed", c.Issuer.String() == c.Subject.String() && selfSigned(c)},
		{"SANs *.domain and domain", strings.Join(c.DNSNames, ",") == "*.aaddscontoso.com,aaddscontoso.com"},
		{"key usage DS+KE only", c.KeyUsage == x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment},
		{"EKU server and client auth", len(c.ExtKeyUsage) == 2 && c.ExtKeyUsage[0] == x509.ExtKeyUsageServerAuth && c.ExtKeyUsage[1] == x509.ExtKeyUsageClientAuth},
		{"not a CA", !c.IsCA},
		{"NotBefore ten minutes back", c.NotBefore.Equal(now.Add(-10 * time.Minute).Truncate(time.Second))},
		{"365 days", c.NotAfter.Equal(now.AddDate(0, 0, 365))},
		{"16-byte positive serial", len(c.SerialNumber.Bytes()) == 16 && c.SerialNumber.Sign() > 0},
		{"subject key ID", len(c.SubjectKeyId) == 20},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("the certificate is not %s", ch.what)
		}
	}

	der, err := b.PFX(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	r := CheckFile(der, Options{Domain: "aaddscontoso.com", Password: testPassword, Now: now})
	for _, res := range r.Results {
		if res.Status != Pass {
			t.Errorf("roster's own PFX: %s %s: %s", res.Rule, res.Status, res.Message)
		}
	}
	if res := status(r, "PFX-06"); !strings.Contains(res.Message, "key TripleDES-SHA1; certificates TripleDES-SHA1; MAC SHA1") {
		t.Errorf("PFX-06 says %q, want TripleDES-SHA1 for key and certificates with a SHA-1 MAC", res.Message)
	}
}

func TestNewRefusesWhatEntraDSWouldRefuse(t *testing.T) {
	tests := []struct {
		name string
		opt  NewOptions
		want string
	}{
		{"a bare word", NewOptions{Domain: "corp"}, "not a DNS domain"},
		{"a URL", NewOptions{Domain: "https://corp.test"}, "not a DNS domain"},
		{"a 1024-bit key", NewOptions{Domain: "corp.test", KeySize: 1024}, "2048, 3072 or 4096"},
		{"30 days", NewOptions{Domain: "corp.test", Days: 30}, "at least the next 3 to 6 months"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opt)
			if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestPFXRefusesUnusablePasswords(t *testing.T) {
	keys(t)
	b := &Bundle{Key: key2048, Cert: good().make(t)}
	for pw, want := range map[roster.Secret]string{"": "must be protected", "key🔑": "beyond U+FFFF"} {
		if _, err := b.PFX(pw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("PFX(%q) = %v, want an error containing %q", pw.Reveal(), err, want)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		pw, err := GeneratePassword(nil)
		if err != nil {
			t.Fatal(err)
		}
		s := pw.Reveal()
		if len(s) != 24 || strings.ContainsAny(s, "0O1lI") || seen[s] {
			t.Fatalf("GeneratePassword() = %q: not 24 unambiguous, fresh characters", s)
		}
		seen[s] = true
	}
}
