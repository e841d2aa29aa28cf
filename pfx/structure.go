package pfx

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Entra DS accepts only TripleDES-SHA1, so roster must say how a PFX is
// encrypted, even when the password is wrong. The outer layers of the
// file are read here with encoding/asn1: PFX -> authenticated safe ->
// content infos -> (for plain data) safe bags. Nothing here needs the
// password; safes.go opens the rest with it.

var (
	oidData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}

	oidPBE3DES   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBES2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBMAC1    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidSHA1      = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// algorithmNames gives the names admins meet in Windows' export dialog
// and openssl's options.
var algorithmNames = map[string]string{
	oidPBE3DES.String():       "TripleDES-SHA1",
	"1.2.840.113549.1.12.1.1": "RC4-128-SHA1",
	"1.2.840.113549.1.12.1.2": "RC4-40-SHA1",
	"1.2.840.113549.1.12.1.4": "2-key TripleDES-SHA1",
	"1.2.840.113549.1.12.1.5": "RC2-128-SHA1",
	"1.2.840.113549.1.12.1.6": "RC2-40-SHA1",
	oidAES128CBC.String():     "AES128",
	oidAES192CBC.String():     "AES192",
	oidAES256CBC.String():     "AES256",
	oidSHA1.String():          "SHA1",
	oidSHA256.String():        "SHA256",
	oidSHA384.String():        "SHA384",
	oidSHA512.String():        "SHA512",
	oidPBMAC1.String():        "PBMAC1",
	"1.2.840.113549.2.9":      "SHA256", // hmacWithSHA256 in PBKDF2
	"1.2.840.113549.2.7":      "SHA1",   // hmacWithSHA1
	"1.2.840.113549.3.7":      "TripleDES-CBC",
	"1.2.840.113549.3.2":      "RC2-CBC",
	"1.3.14.3.2.7":            "DES-CBC",
}

// Structure is what the outer layers of a PFX say, without the password.
type Structure struct {
	Version        int
	KeyBags        int      // unencrypted key bags in plain data safes
	ShroudedKeys   []string // encryption of each shrouded key bag in plain data safes
	EncryptedSafes []string // encryption of each encrypted safe (usually the certificates)
	MAC            string   // MAC digest, or "" when the file has none
	// Trailing is how many bytes follow the PKCS#12 structure. Windows'
	// export can leave zeros there; Windows, OpenSSL and keytool ignore
	// them, and so does roster.
	Trailing     int
	TrailingZero bool // every trailing byte is zero (true when there are none)
}

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type encryptedData struct {
	Version int
	Info    struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Content     asn1.RawValue `asn1:"tag:0,optional"`
	}
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes asn1.RawValue `asn1:"optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type macData struct {
	Mac struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	Salt       []byte
	Iterations int `asn1:"optional,default:1"`
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       asn1.RawValue
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

var errNotPFX = errors.New("not a PKCS#12 file")

// MaxIterations bounds the iteration count of a PFX's key derivations
// (its MAC, its key's and its certificates' encryption) that roster runs,
// each one; all of them together are bounded too (maxTotalIterations,
// pbe.go). go-pkcs12, which decoded PFX files for roster before, ran
// whatever count the file gave, so a file asking for two billion kept a
// CPU busy for hours, in roster cert check and behind the console's
// upload alike. Windows and OpenSSL write about 2,000, Java's keytool
// 10,000.
const MaxIterations = 1_000_000

// oidPKCS12PBE is the arc of PKCS#12's own PBE algorithms
// (pbeWithSHAAnd3-KeyTripleDES-CBC is 1.2.840.113549.1.12.1.3).
var oidPKCS12PBE = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}

// iterations is the iteration count of an algorithm's key derivation:
// PKCS#12's own PBE (a salt and a count), or PBKDF2's under PBES2 and
// PBMAC1; 0 for any other algorithm, or parameters that do not read.
func iterations(a pkix.AlgorithmIdentifier) int {
	switch {
	case a.Algorithm.Equal(oidPBES2), a.Algorithm.Equal(oidPBMAC1):
		var p pbes2Params
		var kdf pbkdf2Params
		if unmarshalAll(a.Parameters.FullBytes, &p) == nil && unmarshalAll(p.KDF.Parameters.FullBytes, &kdf) == nil {
			return kdf.Iterations
		}
	case len(a.Algorithm) == len(oidPKCS12PBE)+1 && a.Algorithm[:len(oidPKCS12PBE)].Equal(oidPKCS12PBE):
		var p struct {
			Salt       []byte
			Iterations int
		}
		if unmarshalAll(a.Parameters.FullBytes, &p) == nil {
			return p.Iterations
		}
	}
	return 0
}

// splitPFX cuts a file after its outer DER structure: the PFX, and what
// follows it.
func splitPFX(data []byte) (der, trailing []byte, err error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(data, &outer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errNotPFX, err)
	}
	return data[:len(data)-len(rest)], rest, nil
}

// ReadStructure reads the outer layers of a PFX. Bytes after the outer
// DER structure are cut off first, and counted in Trailing.
func ReadStructure(data []byte) (*Structure, error) {
	der, trailing, err := splitPFX(data)
	if err != nil {
		return nil, err
	}
	var pdu pfxPDU
	if err := unmarshalAll(der, &pdu); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotPFX, err)
	}
	if !pdu.AuthSafe.ContentType.Equal(oidData) {
		return nil, fmt.Errorf("%w: the authenticated safe is %v, not data (public-key integrity mode is not supported)", errNotPFX, pdu.AuthSafe.ContentType)
	}
	st := &Structure{Version: pdu.Version, Trailing: len(trailing), TrailingZero: !slices.ContainsFunc(trailing, func(b byte) bool { return b != 0 })}
	most := 0 // the largest iteration count of a key derivation
	var authSafe []byte
	if err := unmarshalAll(pdu.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, fmt.Errorf("%w: authenticated safe: %v", errNotPFX, err)
	}
	var infos []contentInfo
	if err := unmarshalAll(authSafe, &infos); err != nil {
		return nil, fmt.Errorf("%w: content infos: %v", errNotPFX, err)
	}
	for _, ci := range infos {
		switch {
		case ci.ContentType.Equal(oidData):
			var safe []byte
			if err := unmarshalAll(ci.Content.Bytes, &safe); err != nil {
				return nil, fmt.Errorf("%w: data safe: %v", errNotPFX, err)
			}
			var bags []safeBag
			if err := unmarshalAll(safe, &bags); err != nil {
				return nil, fmt.Errorf("%w: safe bags: %v", errNotPFX, err)
			}
			for _, b := range bags {
				switch {
				case b.ID.Equal(oidKeyBag):
					st.KeyBags++
				case b.ID.Equal(oidShroudedKeyBag):
					var k encryptedPrivateKeyInfo
					if err := unmarshalAll(b.Value.Bytes, &k); err != nil {
						return nil, fmt.Errorf("%w: shrouded key bag: %v", errNotPFX, err)
					}
					st.ShroudedKeys = append(st.ShroudedKeys, algorithmName(k.Algorithm))
					most = max(most, iterations(k.Algorithm))
				}
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if err := unmarshalAll(ci.Content.Bytes, &ed); err != nil {
				return nil, fmt.Errorf("%w: encrypted safe: %v", errNotPFX, err)
			}
			st.EncryptedSafes = append(st.EncryptedSafes, algorithmName(ed.Info.Algorithm))
			most = max(most, iterations(ed.Info.Algorithm))
		default:
			return nil, fmt.Errorf("%w: unsupported content type %v", errNotPFX, ci.ContentType)
		}
	}
	if len(pdu.MacData.FullBytes) > 0 {
		var md macData
		if err := unmarshalAll(pdu.MacData.FullBytes, &md); err != nil {
			return nil, fmt.Errorf("%w: MAC: %v", errNotPFX, err)
		}
		st.MAC = name(md.Mac.Algorithm.Algorithm)
		most = max(most, md.Iterations, iterations(md.Mac.Algorithm))
	}
	if most > MaxIterations {
		// Refused before any runs, and before the password is asked for.
		// (A key bag inside an encrypted safe is out of sight here; the
		// decryption refuses its count, pbe.go.)
		return nil, &decodeFailure{"PFX-01", fmt.Errorf("%w: a key derivation of %d iterations, more than the %d roster runs", errUnsupported, most, MaxIterations)}
	}
	return st, nil
}

// algorithmName names a PBE algorithm; for PBES2 it names the cipher and
// the PBKDF2 hash, as Windows does ("AES256-SHA256").
func algorithmName(a pkix.AlgorithmIdentifier) string {
	if !a.Algorithm.Equal(oidPBES2) {
		return name(a.Algorithm)
	}
	var p pbes2Params
	if err := unmarshalAll(a.Parameters.FullBytes, &p); err != nil {
		return "PBES2"
	}
	prf := "SHA1" // PBKDF2's default PRF
	var kdf pbkdf2Params
	if unmarshalAll(p.KDF.Parameters.FullBytes, &kdf) == nil && len(kdf.PRF.Algorithm) > 0 {
		prf = name(kdf.PRF.Algorithm)
	}
	cipher := name(p.Scheme.Algorithm)
	if !strings.HasPrefix(cipher, "AES") {
		cipher = "PBES2 " + cipher // not to be mistaken for the PKCS#12 TripleDES-SHA1
	}
	return cipher + "-" + prf
}

func name(oid asn1.ObjectIdentifier) string {
	if n, ok := algorithmNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}

func unmarshalAll(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("trailing data")
	}
	return nil
}
