package pfx

import (
	"crypto"
	"crypto/x509"
	"errors"
	"reflect"
	"slices"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/rosterhq/roster"
)

// fuzzFiles are the files of the table tests, made afresh: PFX files of
// every encoding the tests know, a chain stored root first, a trust
// store without a key, a file without a password, a damaged file, and
// the certificate files.
func fuzzFiles(tb testing.TB) [][]byte {
	tb.Helper()
	keys(tb)
	cert := good().make(tb)
	ca, leaf := caAndLeaf(tb)
	ecSpec := good()
	ecSpec.key, ecSpec.sigAlg = keyEC, x509.ECDSAWithSHA256
	legacy := encode(tb, pkcs12.LegacyDES, key2048, cert, nil, testPassword)
	trustStore, err := pkcs12.LegacyDES.EncodeTrustStore([]*x509.Certificate{ca}, testPassword.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	bundle := &Bundle{Key: key2048, Cert: cert}
	roster, err := bundle.PFX(testPassword)
	if err != nil {
		tb.Fatal(err)
	}
	return [][]byte{
		legacy,
		roster,
		encode(tb, pkcs12.LegacyRC2, key2048, cert, nil, testPassword),
		encode(tb, pkcs12.Modern2023, key2048, cert, nil, testPassword),
		encode(tb, pkcs12.LegacyDES, key2048, cert, nil, ""),
		encode(tb, pkcs12.LegacyDES, key2048, ca, []*x509.Certificate{leaf}, testPassword),
		encode(tb, pkcs12.LegacyDES, keyOther, cert, nil, testPassword),
		encode(tb, pkcs12.LegacyDES, keyEC, ecSpec.make(tb), nil, testPassword),
		trustStore,
		legacy[:len(legacy)/2],
		[]byte("this is not a certificate at all"),
		bundle.CertPEM(),
		cert.Raw,
		append(append([]byte{}, cert.Raw...), 0xde, 0xad),
		[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		nil,
	}
}

func FuzzReadStructure(f *testing.F) {
	for _, b := range fuzzFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		st, err := ReadStructure(der)
		switch {
		case (st == nil) == (err == nil):
			t.Fatalf("ReadStructure = %+v, %v: want a structure or an error", st, err)
		case err != nil && !errors.Is(err, errNotPFX) && !errors.Is(err, errUnsupported):
			t.Fatalf("ReadStructure error %v does not say the file is not a PFX, or not one roster reads", err)
		case err != nil:
			return
		}
		for _, n := range append(slices.Clone(st.ShroudedKeys), st.EncryptedSafes...) {
			if n == "" {
				t.Fatalf("an encryption without a name: %+v", st)
			}
		}
		if again, _ := ReadStructure(der); !reflect.DeepEqual(again, st) {
			t.Fatalf("ReadStructure gave %+v, then %+v", st, again)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, b := range fuzzFiles(f) {
		f.Add(b, testPassword.Reveal())
		f.Add(b, "")
	}
	f.Fuzz(func(t *testing.T, der []byte, password string) {
		c, err := Decode(der, roster.Secret(password))
		if (c == nil) == (err == nil) {
			t.Fatalf("Decode = %+v, %v: want contents or an error", c, err)
		}
		if err != nil {
			var df *decodeFailure
			if !errors.As(err, &df) || !slices.Contains([]string{"PFX-01", "PFX-03", "PFX-04"}, df.rule) {
				t.Fatalf("Decode error %v (%T) names no rule it breaks", err, err)
			}
			if _, serr := ReadStructure(der); serr != nil && df.rule != "PFX-01" {
				t.Fatalf("a file whose structure cannot be read (%v) fails %s, not PFX-01", serr, df.rule)
			}
			return
		}
		if c.Structure == nil || c.Leaf == nil || c.Key == nil {
			t.Fatalf("Decode gave contents without a structure, a certificate or a key: %+v", c)
		}
		if c.LeafFirst && !c.KeyMatches {
			t.Fatal("the leaf is said to come first, but no certificate matches the key")
		}
		if slices.Contains(c.Others, c.Leaf) {
			t.Fatal("the leaf is among the other certificates too")
		}
		if c.KeyMatches {
			pub, ok := c.Key.(crypto.Signer)
			if !ok {
				t.Fatalf("the key %T matches a certificate but signs nothing", c.Key)
			}
			if eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(c.Leaf.PublicKey) {
				t.Fatal("the key is said to match the leaf, but the leaf carries another public key")
			}
		}
	})
}
