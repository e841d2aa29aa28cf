package pfx

// A PFX's password does two jobs: it keys the MAC over the contents, and
// it keys the encryption of the private key and of the certificates.
// PKCS#12 (RFC 7292) derives those keys its own way (appendix B) for the
// MAC and for its TripleDES and RC2 ciphers; PBES2 and PBMAC1 (RFC 8018,
// RFC 9579) derive them with PBKDF2 for AES. This file does both, to
// decrypt only.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

var (
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidDESEDE3    = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidDESCBC     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidSHA224     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
)

// errWrongPassword is a MAC that does not verify, or data that does not
// decrypt: the password is not this file's.
var errWrongPassword = errors.New("the password does not open the file")

// password is a password in the two forms a PFX uses: PKCS#12's own
// derivation hashes a NUL-terminated BMPString (UTF-16BE), PBES2 and
// PBMAC1 hash UTF-8.
type password struct {
	bmp  []byte
	utf8 []byte
	// budget is what is left of the iterations all the file's key
	// derivations may run (maxTotalIterations), shared by the forms.
	budget *int
}

// passwordForms gives the ways a file may have been keyed with pw. An
// empty password has two: a lone NUL, as OpenSSL and go-pkcs12 write it,
// and no bytes at all, as Windows writes "no password".
func passwordForms(pw string) []password {
	bmp := []byte{}
	for _, u := range utf16.Encode([]rune(pw)) {
		bmp = append(bmp, byte(u>>8), byte(u))
	}
	budget := maxTotalIterations
	forms := []password{{bmp: append(bmp, 0, 0), utf8: []byte(pw), budget: &budget}}
	if pw == "" {
		forms = append(forms, password{budget: &budget})
	}
	return forms
}

// digest names a hash by its OID, as a MAC's digest algorithm or as
// PBKDF2's HMAC, with its block size for PKCS#12's derivation.
type digest struct {
	new   func() hash.Hash
	block int
}

func digestOf(oid asn1.ObjectIdentifier) (digest, bool) {
	switch {
	case oid.Equal(oidSHA1), oid.Equal(oidHMACSHA1):
		return digest{sha1.New, 64}, true
	case oid.Equal(oidSHA224), oid.Equal(oidHMACSHA224):
		return digest{sha256.New224, 64}, true
	case oid.Equal(oidSHA256), oid.Equal(oidHMACSHA256):
		return digest{sha256.New, 64}, true
	case oid.Equal(oidSHA384), oid.Equal(oidHMACSHA384):
		return digest{sha512.New384, 128}, true
	case oid.Equal(oidSHA512), oid.Equal(oidHMACSHA512):
		return digest{sha512.New, 128}, true
	}
	return digest{}, false
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnsupported, fmt.Sprintf(format, args...))
}

// maxTotalIterations bounds the iterations of all of a file's key
// derivations together, each hash block counted: a file of a thousand key
// bags, each under MaxIterations, would otherwise keep a CPU busy for
// hours. Windows' and OpenSSL's files spend about 20,000.
const maxTotalIterations = 8 * MaxIterations

// spend refuses a key derivation roster will not run: none at all, more
// than MaxIterations (see structure.go), or more than what is left of the
// file's budget, blocks being the hash blocks it derives.
func (pw password) spend(iterations, blocks int) error {
	switch {
	case iterations < 1:
		return fmt.Errorf("%w: a key derivation of %d iterations", errNotPFX, iterations)
	case iterations > MaxIterations:
		return unsupported("a key derivation of %d iterations, more than the %d roster runs", iterations, MaxIterations)
	case iterations*blocks > *pw.budget:
		return unsupported("key derivations of more than %d iterations in all", maxTotalIterations)
	}
	*pw.budget -= iterations * blocks
	return nil
}

// blocksOf is how many hash outputs of size make n bytes.
func blocksOf(n, size int) int { return (n + size - 1) / size }

// pkcs12Key derives size bytes from a password as RFC 7292 appendix B.2
// does: id 1 for a cipher key, 2 for its IV, 3 for a MAC key.
func pkcs12Key(d digest, pw, salt []byte, id byte, iterations, size int) []byte {
	v := d.block
	fill := func(b []byte) []byte { // b repeated to a whole number of v-byte blocks
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	in := append(fill(salt), fill(pw)...)
	diversifier := make([]byte, v)
	for i := range diversifier {
		diversifier[i] = id
	}
	var out []byte
	for len(out) < size {
		h := d.new()
		h.Write(diversifier)
		h.Write(in)
		a := h.Sum(nil)
		for i := 1; i < iterations; i++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		// Each v-byte block of in becomes block + B + 1, B being a
		// repeated to v bytes, modulo 2^(8v).
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%len(a)]
		}
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}

// pbkdf2Key runs PBKDF2 as its parameters say; keyLen is the length the
// cipher or MAC needs, or 0 to take the parameters' own.
func pbkdf2Key(kdf pkix.AlgorithmIdentifier, pw password, keyLen int) ([]byte, error) {
	if !kdf.Algorithm.Equal(oidPBKDF2) {
		return nil, unsupported("the key derivation %v (only PBKDF2 is defined for PKCS#12)", kdf.Algorithm)
	}
	var p pbkdf2Params
	if err := unmarshalAll(kdf.Parameters.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("%w: PBKDF2 parameters: %v", errNotPFX, err)
	}
	if p.Salt.Class != asn1.ClassUniversal || p.Salt.Tag != asn1.TagOctetString {
		return nil, unsupported("a PBKDF2 salt that is not an octet string")
	}
	switch {
	case keyLen == 0 && (p.KeyLength < 20 || p.KeyLength > 64):
		return nil, unsupported("a PBKDF2 key of %d bytes", p.KeyLength)
	case keyLen == 0:
		keyLen = p.KeyLength
	case p.KeyLength != 0 && p.KeyLength != keyLen:
		return nil, fmt.Errorf("%w: PBKDF2 derives %d bytes for a %d-byte key", errNotPFX, p.KeyLength, keyLen)
	}
	prf := digest{sha1.New, 64} // PBKDF2's default
	if len(p.PRF.Algorithm) > 0 {
		var ok bool
		if prf, ok = digestOf(p.PRF.Algorithm); !ok {
			return nil, unsupported("the PBKDF2 function %v", p.PRF.Algorithm)
		}
	}
	if err := pw.spend(p.Iterations, blocksOf(keyLen, prf.new().Size())); err != nil {
		return nil, err
	}
	return pbkdf2.Key(prf.new, string(pw.utf8), p.Salt.Bytes, p.Iterations, keyLen)
}

// verifyMAC checks a PFX's MAC over its authenticated safe.
func verifyMAC(md *macData, content []byte, pw password) error {
	var key []byte
	var d digest
	if md.Mac.Algorithm.Algorithm.Equal(oidPBMAC1) {
		var p struct {
			KDF    pkix.AlgorithmIdentifier
			Scheme pkix.AlgorithmIdentifier
		}
		if err := unmarshalAll(md.Mac.Algorithm.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("%w: PBMAC1 parameters: %v", errNotPFX, err)
		}
		var ok bool
		if d, ok = digestOf(p.Scheme.Algorithm); !ok {
			return unsupported("the PBMAC1 MAC %v", p.Scheme.Algorithm)
		}
		var err error
		if key, err = pbkdf2Key(p.KDF, pw, 0); err != nil {
			return err
		}
	} else {
		var ok bool
		if d, ok = digestOf(md.Mac.Algorithm.Algorithm); !ok {
			return unsupported("the MAC digest %v", md.Mac.Algorithm.Algorithm)
		}
		if err := pw.spend(md.Iterations, 1); err != nil {
			return err
		}
		key = pkcs12Key(d, pw.bmp, md.Salt, 3, md.Iterations, d.new().Size())
	}
	m := hmac.New(d.new, key)
	m.Write(content)
	if !hmac.Equal(m.Sum(nil), md.Mac.Digest) {
		return errWrongPassword
	}
	return nil
}

// decrypt decrypts data encrypted under alg, a PKCS#12 PBE algorithm or
// PBES2.
func decrypt(alg pkix.AlgorithmIdentifier, data []byte, pw password) ([]byte, error) {
	var block cipher.Block
	var iv []byte
	var err error
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		block, iv, err = pbes2Cipher(alg, pw)
	case len(alg.Algorithm) == len(oidPKCS12PBE)+1 && alg.Algorithm[:len(oidPKCS12PBE)].Equal(oidPKCS12PBE):
		block, iv, err = pkcs12Cipher(alg, pw)
	default:
		err = unsupported("the encryption %s", name(alg.Algorithm))
	}
	if err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data)%block.BlockSize() != 0 {
		return nil, fmt.Errorf("%w: encrypted data of %d bytes, not whole blocks", errNotPFX, len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	// PKCS#7 padding: n bytes of value n. Anything else is the wrong key.
	n := int(out[len(out)-1])
	if n == 0 || n > block.BlockSize() {
		return nil, errWrongPassword
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errWrongPassword
		}
	}
	return out[:len(out)-n], nil
}

// pkcs12Cipher sets up one of PKCS#12's own PBE ciphers.
func pkcs12Cipher(alg pkix.AlgorithmIdentifier, pw password) (cipher.Block, []byte, error) {
	var p struct {
		Salt       []byte
		Iterations int
	}
	if err := unmarshalAll(alg.Parameters.FullBytes, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: PBE parameters: %v", errNotPFX, err)
	}
	var keyLen int
	var newBlock func(key []byte) (cipher.Block, error)
	switch alg.Algorithm[len(alg.Algorithm)-1] {
	case 3: // pbeWithSHAAnd3-KeyTripleDES-CBC
		keyLen, newBlock = 24, des.NewTripleDESCipher
	case 4: // pbeWithSHAAnd2-KeyTripleDES-CBC: K1 K2 K1
		keyLen, newBlock = 16, func(k []byte) (cipher.Block, error) { return des.NewTripleDESCipher(append(k, k[:8]...)) }
	case 5: // pbeWithSHAAnd128BitRC2-CBC
		keyLen, newBlock = 16, func(k []byte) (cipher.Block, error) { return newRC2(k, 128) }
	case 6: // pbewithSHAAnd40BitRC2-CBC
		keyLen, newBlock = 5, func(k []byte) (cipher.Block, error) { return newRC2(k, 40) }
	default:
		return nil, nil, unsupported("the encryption %s", name(alg.Algorithm))
	}
	if err := pw.spend(p.Iterations, blocksOf(keyLen, sha1.Size)+1); err != nil {
		return nil, nil, err
	}
	sha := digest{sha1.New, 64}
	block, err := newBlock(pkcs12Key(sha, pw.bmp, p.Salt, 1, p.Iterations, keyLen))
	return block, pkcs12Key(sha, pw.bmp, p.Salt, 2, p.Iterations, 8), err
}

// pbes2Cipher sets up PBES2: PBKDF2 and a CBC cipher.
func pbes2Cipher(alg pkix.AlgorithmIdentifier, pw password) (cipher.Block, []byte, error) {
	var p pbes2Params
	if err := unmarshalAll(alg.Parameters.FullBytes, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: PBES2 parameters: %v", errNotPFX, err)
	}
	var iv []byte
	if err := unmarshalAll(p.Scheme.Parameters.FullBytes, &iv); err != nil {
		return nil, nil, fmt.Errorf("%w: PBES2 IV: %v", errNotPFX, err)
	}
	var keyLen int
	var newBlock func([]byte) (cipher.Block, error)
	switch s := p.Scheme.Algorithm; {
	case s.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case s.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case s.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case s.Equal(oidDESEDE3):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	case s.Equal(oidDESCBC):
		keyLen, newBlock = 8, des.NewCipher
	default:
		return nil, nil, unsupported("the PBES2 cipher %s", name(s))
	}
	key, err := pbkdf2Key(p.KDF, pw, keyLen)
	if err != nil {
		return nil, nil, err
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, nil, err
	}
	if len(iv) != block.BlockSize() {
		return nil, nil, fmt.Errorf("%w: a PBES2 IV of %d bytes", errNotPFX, len(iv))
	}
	return block, iv, nil
}
