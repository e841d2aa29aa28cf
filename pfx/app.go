package pfx

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// AppOptions are the parameters of an app registration's certificate
// credential, which roster signs its Graph token requests with.
type AppOptions struct {
	Name    string    // the subject's common name, such as roster-print
	Days    int       // validity; 0 means 365 (Microsoft's sample: one year)
	KeySize int       // 2048 (default), 3072 or 4096: Entra ID takes RSA only
	Now     time.Time // zero means time.Now()
	Rand    io.Reader // nil means crypto/rand
}

// NewApp makes a self-signed certificate credential for an Entra ID app
// registration, as Microsoft's how-to makes one: RSA, SHA-256, key usage
// Digital Signature, client authentication, valid from ten minutes ago.
// Only the public certificate is uploaded to the app; the key stays with
// roster.
//
// Errors: EINVALID for a bad name, key size or validity.
func NewApp(opt AppOptions) (*Bundle, error) {
	name := strings.TrimSpace(opt.Name)
	if name == "" || len(name) > 64 {
		return nil, roster.Errorf(roster.EINVALID, "give the certificate a name of 1 to 64 characters, such as roster-print")
	}
	if err := roster.CheckText("certificate name", name); err != nil {
		return nil, err
	}
	var err error
	if opt.KeySize, err = keySize(opt.KeySize); err != nil {
		return nil, err
	}
	if opt.Days == 0 {
		opt.Days = DefaultDays
	}
	if opt.Days < 1 || opt.Days > 2*DefaultDays {
		return nil, roster.Errorf(roster.EINVALID, "the validity must be from 1 to %d days, not %d: renew the app's certificate at least every two years", 2*DefaultDays, opt.Days)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	return selfSign(opt.Rand, opt.KeySize, "pfx.NewApp", &x509.Certificate{
		Subject:            pkix.Name{CommonName: name},
		NotBefore:          opt.Now.Add(-10 * time.Minute),
		NotAfter:           opt.Now.AddDate(0, 0, opt.Days),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		SignatureAlgorithm: x509.SHA256WithRSA,
	})
}

// KeyPEM is the bundle's key as unencrypted PKCS#8 PEM, for roster to
// read; keep the file readable by roster alone.
func (b *Bundle) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(b.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
