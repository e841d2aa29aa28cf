package pfx

import (
	"crypto"
	"crypto/x509"
	"errors"
	"slices"

	"github.com/rosterhq/roster"
)

// Contents is a decoded PFX.
type Contents struct {
	Structure *Structure
	Key       crypto.PrivateKey
	Leaf      *x509.Certificate   // the certificate the key belongs to, when one does
	Others    []*x509.Certificate // the rest, in the order stored, each once
	// LeafFirst says the key's certificate is the first one stored. Many
	// readers (go-pkcs12 itself, some Java and Windows importers) take the
	// first certificate as the server's.
	LeafFirst  bool
	KeyMatches bool // some certificate in the file carries the key's public key
	// KeyCopies is how many key bags hold Key. Windows stores a key twice
	// when both a CAPI and a CNG provider hold it; KeyProviders names the
	// providers the bags give, in the order stored.
	KeyCopies    int
	KeyProviders []string
}

// errUnsupported marks a PFX that is well formed but uses a feature the
// decoder does not implement.
var errUnsupported = errors.New("unsupported PKCS#12 feature")

// What a PFX can lack, or hold too much of (PFX-04).
var (
	errNoKey         = errors.New("the file holds no private key")
	errManyKeys      = errors.New("the file holds more than one private key")
	errNoCertificate = errors.New("the file holds a private key but no certificate")
)

// decodeFailure says which rule a failed decode breaks.
type decodeFailure struct {
	rule string
	err  error
}

func (d *decodeFailure) Error() string { return d.err.Error() }
func (d *decodeFailure) Unwrap() error { return d.err }

// Decode opens a PFX with its password and finds the server certificate
// by its key, whatever order the file stores it in. Bytes after the PFX
// are ignored (see Structure.Trailing); copies of one key count as one
// key, and a certificate stored twice is returned once.
//
// Errors: a *decodeFailure naming the rule broken (see rules.go): PFX-01
// for a file that is not a PFX, is damaged, or uses a feature roster does
// not read; PFX-03 for a password that does not open it; PFX-04 for a
// file without a private key or with more than one.
func Decode(data []byte, password roster.Secret) (*Contents, error) {
	st, err := ReadStructure(data)
	if err != nil {
		return nil, asFailure("PFX-01", err)
	}
	der, _, _ := splitPFX(data)
	o, err := openPFX(der, password)
	if err != nil {
		return nil, err
	}
	f, err := o.sort()
	if err != nil {
		return nil, err
	}
	switch {
	case len(f.keys) == 0:
		return nil, &decodeFailure{"PFX-04", errNoKey}
	case len(f.keys) > 1:
		return nil, &decodeFailure{"PFX-04", errManyKeys}
	case len(f.certs) == 0:
		return nil, &decodeFailure{"PFX-01", errNoCertificate}
	}
	return f.contents(st), nil
}

func asFailure(rule string, err error) error {
	var df *decodeFailure
	if errors.As(err, &df) {
		return err
	}
	return &decodeFailure{rule, err}
}

func failedRule(err error) string {
	var df *decodeFailure
	if errors.As(err, &df) {
		return df.rule
	}
	return "PFX-01"
}

// found is an opened PFX sorted out: its different keys, and its
// different certificates.
type found struct {
	keys       []foundKey
	certs      []*x509.Certificate // each once, in the order first stored
	certCopies int                 // certificate bags that repeat an earlier one
}

// foundKey is one private key, and the bags that hold it.
type foundKey struct {
	key  crypto.PrivateKey
	bags []storedKey
}

// sort parses the keys and certificates. A certificate with a negative
// serial number is read (see parseCertificate); one that cannot be read
// at all, or a key roster cannot parse, fails PFX-01.
func (o *opened) sort() (*found, error) {
	f := &found{}
	seen := map[string]bool{}
	for _, der := range o.certs {
		if seen[string(der)] {
			f.certCopies++
			continue
		}
		seen[string(der)] = true
		c, err := parseCertificate(der)
		if err != nil {
			return nil, &decodeFailure{"PFX-01", unsupported("a certificate that cannot be read: %s", certParseReason(err))}
		}
		f.certs = append(f.certs, c)
	}
	for _, k := range o.keys {
		key, err := x509.ParsePKCS8PrivateKey(k.pkcs8)
		if err != nil {
			return nil, &decodeFailure{"PFX-01", unsupported("a private key roster cannot read (%v)", err)}
		}
		i := slices.IndexFunc(f.keys, func(fk foundKey) bool { return sameKey(fk.key, key) })
		if i < 0 {
			f.keys = append(f.keys, foundKey{key: key})
			i = len(f.keys) - 1
		}
		f.keys[i].bags = append(f.keys[i].bags, k)
	}
	return f, nil
}

// server finds the server certificate: the first one a key belongs to
// (key is that key's index), or else the first that is not a CA, or else
// the first (key is -1). It returns -1, -1 when the file holds no
// certificate.
func (f *found) server() (cert, key int) {
	for ci, c := range f.certs {
		for ki, k := range f.keys {
			if belongs(k.key, c) {
				return ci, ki
			}
		}
	}
	for ci, c := range f.certs {
		if !c.IsCA {
			return ci, -1
		}
	}
	if len(f.certs) == 0 {
		return -1, -1
	}
	return 0, -1
}

// contents is Decode's answer for a file with one key and a certificate.
func (f *found) contents(st *Structure) *Contents {
	k := f.keys[0]
	c := &Contents{Structure: st, Key: k.key, KeyCopies: len(k.bags)}
	for _, b := range k.bags {
		if b.provider != "" {
			c.KeyProviders = append(c.KeyProviders, b.provider)
		}
	}
	ci, ki := f.server()
	c.KeyMatches, c.LeafFirst = ki >= 0, ki >= 0 && ci == 0
	c.Leaf = f.certs[ci]
	c.Others = slices.Delete(slices.Clone(f.certs), ci, ci+1)
	return c
}

type publicKey interface{ Equal(crypto.PublicKey) bool }

// belongs reports whether c carries key's public key.
func belongs(key crypto.PrivateKey, c *x509.Certificate) bool {
	s, ok := key.(crypto.Signer)
	if !ok {
		return false
	}
	pub, ok := s.Public().(publicKey)
	return ok && pub.Equal(c.PublicKey)
}

// sameKey reports whether two private keys are one key.
func sameKey(a, b crypto.PrivateKey) bool {
	sa, ok1 := a.(crypto.Signer)
	sb, ok2 := b.(crypto.Signer)
	if !ok1 || !ok2 {
		return false
	}
	pub, ok := sa.Public().(publicKey)
	return ok && pub.Equal(sb.Public())
}
