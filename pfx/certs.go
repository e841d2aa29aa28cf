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
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
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
	return parseCertificates(data, x509.ParseCertificate)
}

// parseCertificates is ParseCertificates with the parser of each
// certificate given: x509.ParseCertificate, or parseCertificate to check
// a certificate whose serial is negative.
func parseCertificates(data []byte, parse func([]byte) (*x509.Certificate, error)) ([]*x509.Certificate, error) {
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
		c, err := parse(block.Bytes)
		if err != nil {
			return nil, &roster.Error{Code: roster.EINVALID, Op: "pfx.ParseCertificates", Err: err,
				Message: "the file holds a certificate that cannot be read: " + certParseReason(err)}
		}
		out = append(out, c)
	}
	if len(out) == 0 && !bytes.Contains(data, []byte("-----BEGIN")) {
		if c, err := parse(data); err == nil {
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

// parseCertificate reads a certificate as x509.ParseCertificate does,
// and also one whose serial number is negative, which Go refuses since
// 1.23 but Windows and older tools wrote. Go's own switch for those,
// GODEBUG=x509negativeserial=1, holds for a whole process, and would let
// roster's LDAP client and console trust such certificates too; so only
// the checks read them, here: the serial is set aside for the parse, and
// put back. CRT-14 then fails the certificate, and every other rule runs.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil || !strings.Contains(err.Error(), "negative serial") {
		return c, err
	}
	serial, positive, err2 := withPositiveSerial(der)
	if err2 != nil {
		return nil, err
	}
	c, err = x509.ParseCertificate(positive)
	if err != nil {
		return nil, err
	}
	// Raw and RawTBSCertificate are what the issuer signed and what the
	// fingerprints are of: the original bytes.
	var cert struct{ TBS asn1.RawValue }
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		return nil, err
	}
	c.Raw, c.RawTBSCertificate, c.SerialNumber = der, cert.TBS.FullBytes, serial
	return c, nil
}

// withPositiveSerial returns a certificate's serial number, and the
// certificate re-encoded with the serial 1 in its place.
func withPositiveSerial(der []byte) (*big.Int, []byte, error) {
	var cert struct {
		TBS       asn1.RawValue
		Algorithm asn1.RawValue
		Signature asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(der, &cert); err != nil || len(rest) > 0 {
		return nil, nil, errors.New("not a certificate")
	}
	fields := cert.TBS.Bytes
	var head []byte // the explicit [0] version, when present
	var first asn1.RawValue
	rest, err := asn1.Unmarshal(fields, &first)
	if err != nil {
		return nil, nil, err
	}
	if first.Class == asn1.ClassContextSpecific && first.Tag == 0 {
		head = first.FullBytes
		fields = rest
	}
	var serial *big.Int
	rest, err = asn1.Unmarshal(fields, &serial)
	if err != nil {
		return nil, nil, err
	}
	one, _ := asn1.Marshal(1)
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
		Bytes: slices.Concat(head, one, rest)})
	if err != nil {
		return nil, nil, err
	}
	out, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
		Bytes: slices.Concat(tbs, cert.Algorithm.FullBytes, cert.Signature.FullBytes)})
	return serial, out, err
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

// DaysLeft counts the calendar days (UTC) from now to the day c expires:
// 0 on its last day, negative once that day has passed. It counts dates,
// not a time.Duration, which ends in 2262: a certificate valid to 3014
// has about 360,000 days left, not the 106,751 a Duration holds.
func DaysLeft(c *x509.Certificate, now time.Time) int {
	return roster.DaysLeft(c.NotAfter, now)
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
