// Package pfx makes, reads and checks the certificates that secure LDAP
// needs: the password-protected PKCS#12 (.pfx) file that Microsoft Entra
// Domain Services takes to turn on LDAPS, and the public .cer that clients
// trust. Check runs the Entra DS rules (see rules.go) on a file or on the
// chain a server presents, and says for each rule what passed or failed
// and how to fix it.
//
// The package does no network I/O: the ldap package fetches a server's
// chain, cmd/roster hands it here.
package pfx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// ParseCertificates reads certificates from PEM (a Base-64 .cer, .pem or
// .crt, possibly several) or from one DER certificate (a binary .cer, as
// Windows exports it).
//
// Errors: EINVALID when the data holds no readable certificate.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &roster.Error{Code: roster.EINVALID, Op: "pfx.ParseCertificates", Err: err,
				Message: "the file holds a certificate that cannot be read: " + certParseReason(err)}
		}
		out = append(out, c)
	}
	if len(out) == 0 && !bytes.Contains(data, []byte("-----BEGIN")) {
		if c, err := x509.ParseCertificate(data); err == nil {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, roster.Errorf(roster.EINVALID, "the file holds no certificate; give a .cer or .pem certificate (PEM or DER)")
	}
	return out, nil
}

// certParseReason explains the one parse failure admins meet in practice.
func certParseReason(err error) string {
	if strings.Contains(err.Error(), "negative serial") {
		return "its serial number is negative, which current software refuses; issue a new certificate"
	}
	return err.Error()
}

// Fingerprint returns a certificate's SHA-256 fingerprint as upper-case
// hex with colons, the form browsers show and -pin-sha256 accepts.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// Thumbprint returns a certificate's SHA-1 thumbprint as upper-case hex
// without separators: the form the Azure portal and the Entra DS API
// (certificateThumbprint) show, so the admin can compare at a glance.
func Thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Summary is what an admin wants to see of a certificate.
type Summary struct {
	Subject   string    `json:"subject"`
	SANs      []string  `json:"sans"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	DaysLeft  int       `json:"days_left"`
	Key       string    `json:"key"`
	Signature string    `json:"signature"`
	Serial    string    `json:"serial"`
	SHA256    string    `json:"sha256"`
	SHA1      string    `json:"sha1_thumbprint"`
}

// Summarize describes c as of now.
func Summarize(c *x509.Certificate, now time.Time) *Summary {
	return &Summary{
		Subject:   c.Subject.String(),
		SANs:      c.DNSNames,
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		DaysLeft:  DaysLeft(c, now),
		Key:       KeyDescription(c),
		Signature: c.SignatureAlgorithm.String(),
		Serial:    strings.ToUpper(c.SerialNumber.Text(16)),
		SHA256:    Fingerprint(c),
		SHA1:      Thumbprint(c),
	}
}

// DaysLeft is the number of whole days until c expires; negative once it
// has.
func DaysLeft(c *x509.Certificate, now time.Time) int {
	return int(c.NotAfter.Sub(now).Hours() / 24)
}

// KeyDescription names the key type and size, such as "RSA 2048".
func KeyDescription(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return c.PublicKeyAlgorithm.String()
}
