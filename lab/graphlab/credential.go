package graphlab

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Credential is an app's certificate credential: a self-signed RSA 2048
// certificate, valid a day, and its key.
type Credential struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// NewCredential makes a credential for a test.
func NewCredential() (Credential, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Credential{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "roster graph lab app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Credential{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return Credential{cert, key}, err
}

// WriteFiles writes the certificate and the key as PEM files in dir, as
// roster keeps them (the key 0600).
func (c Credential) WriteFiles(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "graph-app.pem"), filepath.Join(dir, "graph-app.key")
	if err = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}), 0o644); err == nil {
		err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(c.Key)}), 0o600)
	}
	return certFile, keyFile, err
}

// CAPEM is the double's TLS certificate as PEM, for a client to trust.
func (s *Server) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}
