package pfx

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	_ "crypto/md5" // registers crypto.MD5, to tell an MD5 signature that matches from one that does not
	"crypto/rsa"
	_ "crypto/sha1"
	"crypto/x509"
	"errors"
	"time"
)

// weakHash names the broken hash a signature algorithm uses, or "".
func weakHash(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
		return "SHA-1"
	case x509.MD5WithRSA:
		return "MD5"
	case x509.MD2WithRSA:
		return "MD2"
	}
	return ""
}

// signedBy checks that parent's key made child's signature. Unlike
// x509's checks, it checks SHA-1 and MD5 signatures too, which Go
// refuses without looking: roster tells a weak signature (CRT-11, CRT-13)
// from a wrong one.
func signedBy(child, parent *x509.Certificate) error {
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	var insecure x509.InsecureAlgorithmError
	if !errors.As(err, &insecure) {
		return err
	}
	var h crypto.Hash
	switch child.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.MD5WithRSA:
		h = crypto.MD5
	default:
		return err
	}
	d := h.New()
	d.Write(child.RawTBSCertificate)
	sum := d.Sum(nil)
	switch k := parent.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, sum, child.Signature)
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, sum, child.Signature) {
			return nil
		}
		return errors.New("ECDSA verification failure")
	}
	return err
}

// selfSigned reports whether c names itself as its issuer and its own key
// made its signature, whatever the hash.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && signedBy(c, c) == nil
}

// chainStop says where following a chain's issuers ended.
type chainStop int

const (
	stopRoot         chainStop = iota // at a self-signed certificate
	stopMissing                       // no certificate given is the issuer named
	stopBadSignature                  // a certificate has the issuer's name, but its key did not sign
)

// chain is a chain followed from a leaf through the certificates given,
// and what stands in its way.
type chain struct {
	path     []*x509.Certificate // the leaf, then each issuer found
	stop     chainStop
	impostor *x509.Certificate   // with stopBadSignature: the certificate named as issuer that did not sign
	weak     []*x509.Certificate // certificates of the path signed with a broken hash (a root's own signature aside)
	notValid []*x509.Certificate // CA certificates of the path expired, or not valid yet, at now
	refused  error               // Go's verdict on a path that ends at a root, when nothing above explains it
	now      time.Time
}

// followChain follows issuers from leaf through pool, up to a
// self-signed certificate (the leaf itself, when it is one).
func followChain(leaf *x509.Certificate, pool []*x509.Certificate, now time.Time) *chain {
	ch := &chain{path: []*x509.Certificate{leaf}, now: now}
	used := map[*x509.Certificate]bool{leaf: true}
	cur := leaf
	for {
		if selfSigned(cur) {
			ch.stop = stopRoot
			break
		}
		var issuer, named *x509.Certificate
		for _, c := range pool {
			if used[c] || !bytes.Equal(c.RawSubject, cur.RawIssuer) {
				continue
			}
			if signedBy(cur, c) == nil {
				issuer = c
				break
			}
			named = c
		}
		if issuer == nil {
			ch.stop, ch.impostor = stopMissing, named
			if named != nil {
				ch.stop = stopBadSignature
			}
			break
		}
		if weakHash(cur.SignatureAlgorithm) != "" {
			ch.weak = append(ch.weak, cur)
		}
		if now.After(issuer.NotAfter) || now.Before(issuer.NotBefore) {
			ch.notValid = append(ch.notValid, issuer)
		}
		used[issuer] = true
		ch.path = append(ch.path, issuer)
		cur = issuer
	}
	if ch.stop == stopRoot && len(ch.path) > 1 && len(ch.weak) == 0 && len(ch.notValid) == 0 {
		// Go's own verdict, at a time the leaf is valid (CRT-08 and
		// CRT-09 judge the leaf's dates).
		at := now
		if at.After(leaf.NotAfter) {
			at = leaf.NotAfter
		}
		if at.Before(leaf.NotBefore) {
			at = leaf.NotBefore
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		root := ch.path[len(ch.path)-1]
		roots.AddCert(root)
		for _, c := range ch.path[1 : len(ch.path)-1] {
			inter.AddCert(c)
		}
		_, ch.refused = leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	}
	return ch
}

// root is the last certificate of a path that ends at a root.
func (ch *chain) root() *x509.Certificate { return ch.path[len(ch.path)-1] }
