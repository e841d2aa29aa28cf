package ldap

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// verifier checks the server certificate itself, in VerifyConnection,
// rather than leaving it to crypto/tls. The checks are the same (chain to
// a trusted root, server name, server-auth usage), but the typed error
// survives: go-ldap's StartTLS flattens handshake errors into text, and
// the admin needs to know which check failed and on which certificate.
type verifier struct {
	roots      *x509.CertPool
	serverName string
	pin        []byte
	skip       bool
	record     bool // probe: note a failed check but let the handshake finish

	mu      sync.Mutex
	err     error // the last verification failure, typed
	peer    []*x509.Certificate
	matched string
}

func newVerifier(src *roster.Source) (*verifier, error) {
	v := &verifier{serverName: src.ServerName(), skip: src.Trust.SkipVerify}
	pin, err := src.Pin()
	if err != nil {
		return nil, err
	}
	v.pin = pin
	if v.pin != nil || v.skip {
		return v, nil
	}
	if len(src.Trust.CAPEM) == 0 {
		// nil Roots in x509.VerifyOptions means the system roots.
		return v, nil
	}
	// Given CAs replace the system roots, as tls.Config.RootCAs does.
	certs, err := pfx.ParseCertificates(src.Trust.CAPEM)
	if err != nil {
		return nil, err
	}
	v.roots = x509.NewCertPool()
	for _, c := range certs {
		v.roots.AddCert(c)
	}
	return v, nil
}

func (v *verifier) config() *tls.Config {
	return &tls.Config{
		ServerName:         v.serverName,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verification happens in VerifyConnection, below
		VerifyConnection:   v.check,
	}
}

// errPinMismatch is the typed failure of a pinned fingerprint.
var errPinMismatch = errors.New("certificate does not match the pinned fingerprint")

func (v *verifier) check(cs tls.ConnectionState) error {
	err := v.verify(cs)
	if v.record {
		return nil
	}
	return err
}

func (v *verifier) verify(cs tls.ConnectionState) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.peer = cs.PeerCertificates
	if len(cs.PeerCertificates) == 0 {
		v.err = errors.New("the server sent no certificate")
		return v.err
	}
	leaf := cs.PeerCertificates[0]
	switch {
	case v.skip:
		v.matched = "none"
		return nil
	case v.pin != nil:
		sum := sha256.Sum256(leaf.Raw)
		if !bytes.Equal(sum[:], v.pin) {
			v.err = errPinMismatch
			return v.err
		}
		v.matched = "pin"
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		DNSName:       v.serverName,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		v.err = err
		return err
	}
	v.matched = "chain"
	return nil
}

// failure returns the typed verification error and the certificates the
// server presented, if the handshake got that far.
func (v *verifier) failure() ([]*x509.Certificate, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.peer, v.err
}

func (v *verifier) how() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.matched
}
