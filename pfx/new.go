package pfx

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/rosterhq/roster"
)

// NewOptions are the parameters of a self-signed secure LDAP certificate.
// The zero values give what the founding article's New-SelfSignedCertificate
// call gives: RSA 2048, one year.
type NewOptions struct {
	Domain  string    // the managed domain, such as aaddscontoso.com
	Days    int       // validity; 0 means 365
	KeySize int       // 2048 (default), 3072 or 4096
	Now     time.Time // zero means time.Now()
	Rand    io.Reader // nil means crypto/rand
}

// Limits on NewOptions.
const (
	DefaultDays = 365
	MinDays     = 90 // Entra DS wants at least 3 to 6 months of validity
	MaxDays     = 3650
)

// Bundle is a key and its self-signed certificate.
type Bundle struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// New makes a self-signed certificate as the article's PowerShell does:
// subject CN=*.domain, SANs *.domain and domain, key usage Digital
// Signature and Key Encipherment, extended key usage Server Authentication
// and Client Authentication, SHA-256, valid from ten minutes ago, with a
// random 16-byte serial.
//
// Errors: EINVALID for a bad domain, key size or validity.
func New(opt NewOptions) (*Bundle, error) {
	domain := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(opt.Domain), "*."), "."))
	if !roster.ValidDomain(domain) {
		return nil, roster.Errorf(roster.EINVALID, "%q is not a DNS domain such as aaddscontoso.com; give the managed domain's name", opt.Domain)
	}
	var err error
	if opt.KeySize, err = keySize(opt.KeySize); err != nil {
		return nil, err
	}
	if opt.Days == 0 {
		opt.Days = DefaultDays
	}
	if opt.Days < MinDays || opt.Days > MaxDays {
		return nil, roster.Errorf(roster.EINVALID, "the validity must be from %d to %d days, not %d: Entra DS wants the certificate valid for at least the next 3 to 6 months", MinDays, MaxDays, opt.Days)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	return selfSign(opt.Rand, opt.KeySize, "pfx.New", &x509.Certificate{
		Subject:            pkix.Name{CommonName: "*." + domain},
		DNSNames:           []string{"*." + domain, domain},
		NotBefore:          opt.Now.Add(-10 * time.Minute),
		NotAfter:           opt.Now.AddDate(0, 0, opt.Days),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		SignatureAlgorithm: x509.SHA256WithRSA,
	})
}

// selfSign makes an RSA key of keySize bits and signs tmpl with it, with
// a random 16-byte serial and the key's identifier. op names the caller
// in errors.
func selfSign(r io.Reader, keySize int, op string, tmpl *x509.Certificate) (*Bundle, error) {
	key, err := rsa.GenerateKey(r, keySize)
	if err != nil {
		return nil, &roster.Error{Code: roster.EINTERNAL, Op: op, Err: err, Message: "cannot generate the RSA key"}
	}
	serial := make([]byte, 16)
	if _, err := io.ReadFull(r, serial); err != nil {
		return nil, &roster.Error{Code: roster.EINTERNAL, Op: op, Err: err, Message: "cannot draw a random serial number"}
	}
	serial[0] &= 0x7f // positive: current software refuses negative serials
	serial[0] |= 0x01 // and 16 bytes long, never shorter
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(spki)
	tmpl.SerialNumber, tmpl.SubjectKeyId = new(big.Int).SetBytes(serial), ski[:]
	der, err := x509.CreateCertificate(r, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, &roster.Error{Code: roster.EINTERNAL, Op: op, Err: err, Message: "cannot sign the certificate"}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Bundle{Key: key, Cert: cert}, nil
}

// PFX encodes the bundle as the .pfx Entra DS takes: key and certificate
// both encrypted with TripleDES-SHA1, MAC HMAC-SHA1. Entra DS refuses the
// AES-256 encoding that newer tools default to.
//
// Errors: EINVALID for an empty password or one with characters a PFX
// cannot hold.
func (b *Bundle) PFX(password roster.Secret) ([]byte, error) {
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	der, err := pkcs12.LegacyDES.Encode(b.Key, b.Cert, nil, password.Reveal())
	if err != nil {
		return nil, &roster.Error{Code: roster.EINTERNAL, Op: "pfx.PFX", Err: err, Message: "cannot encode the PFX"}
	}
	return der, nil
}

// CertPEM returns the public certificate as a Base-64 .cer, the file
// clients add to their trusted roots.
func (b *Bundle) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Cert.Raw})
}

// checkPassword applies PFX-02 and PFX-07 to a password about to be used.
func checkPassword(pw roster.Secret) error {
	if !pw.IsSet() {
		return roster.Errorf(roster.EINVALID, "%s", msgNoPassword)
	}
	if !bmpOnly(pw.Reveal()) {
		return roster.Errorf(roster.EINVALID, "%s", msgPasswordChars)
	}
	return nil
}

// bmpOnly reports whether every character fits in UCS-2, which is all a
// PKCS#12 password (a BMPString) can hold: emoji and other characters
// beyond U+FFFF cannot be used.
func bmpOnly(s string) bool {
	for _, r := range s {
		if r > 0xFFFF {
			return false
		}
	}
	return true
}

// passwordAlphabet leaves out characters that are easy to misread or
// mistype (0/O, 1/l/I) and shell metacharacters.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random 24-character password, about 140
// bits, for a PFX the admin did not give a password for.
func GeneratePassword(r io.Reader) (roster.Secret, error) {
	if r == nil {
		r = rand.Reader
	}
	out := make([]byte, 24)
	n := big.NewInt(int64(len(passwordAlphabet)))
	for i := range out {
		k, err := rand.Int(r, n)
		if err != nil {
			return "", err
		}
		out[i] = passwordAlphabet[k.Int64()]
	}
	return roster.Secret(out), nil
}

// keySize returns the RSA key size to make: 2048 bits when n is 0, and
// 2048, 3072 or 4096 only; a certificate of either kind takes the same.
func keySize(n int) (int, error) {
	switch n {
	case 0:
		return 2048, nil
	case 2048, 3072, 4096:
		return n, nil
	}
	return 0, roster.Errorf(roster.EINVALID, "the key size must be 2048, 3072 or 4096 bits, not %d", n)
}
