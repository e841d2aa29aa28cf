package pfx

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/rosterhq/roster"
)

// Contents is a decoded PFX.
type Contents struct {
	Structure *Structure
	Key       crypto.PrivateKey
	Leaf      *x509.Certificate   // the certificate the key belongs to, when one does
	Others    []*x509.Certificate // the rest, in the order stored
	// LeafFirst says the key's certificate is the first one stored. Many
	// readers (go-pkcs12 itself, some Java and Windows importers) take the
	// first certificate as the server's.
	LeafFirst  bool
	KeyMatches bool // some certificate in the file carries the key's public key
}

// errUnsupported marks a PFX that is well formed but uses a feature the
// decoder does not implement.
var errUnsupported = errors.New("unsupported PKCS#12 feature")

// decodeFailure says which rule a failed decode breaks.
type decodeFailure struct {
	rule string
	err  error
}

func (d *decodeFailure) Error() string { return d.err.Error() }
func (d *decodeFailure) Unwrap() error { return d.err }

// Decode opens a PFX with its password and finds the server certificate
// by its key, whatever order the file stores it in. On failure the error
// is a *decodeFailure naming the rule broken (see rules.go).
func Decode(der []byte, password roster.Secret) (*Contents, error) {
	st, err := ReadStructure(der)
	if err != nil {
		return nil, &decodeFailure{"PFX-01", err}
	}
	key, first, others, err := pkcs12.DecodeChain(der, password.Reveal())
	if err != nil {
		return nil, classify(err)
	}
	c := &Contents{Structure: st, Key: key}
	all := append([]*x509.Certificate{first}, others...)
	idx := -1
	if s, ok := key.(crypto.Signer); ok {
		for i, cert := range all {
			if pub, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(cert.PublicKey) {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		c.Leaf, c.Others = first, others
		return c, nil
	}
	c.KeyMatches, c.LeafFirst = true, idx == 0
	c.Leaf = all[idx]
	c.Others = append(append([]*x509.Certificate{}, all[:idx]...), all[idx+1:]...)
	return c, nil
}

func classify(err error) error {
	var ni pkcs12.NotImplementedError
	msg := err.Error()
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		return &decodeFailure{"PFX-03", err}
	case strings.Contains(msg, "private key missing"), strings.Contains(msg, "exactly one key bag"):
		return &decodeFailure{"PFX-04", err}
	case errors.As(err, &ni):
		return &decodeFailure{"PFX-01", fmt.Errorf("%w: %v", errUnsupported, err)}
	}
	return &decodeFailure{"PFX-01", err}
}
