package pfx

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/rosterhq/roster"
)

var (
	oidSafeContentsBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidX509Certificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidCSPName         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 17, 1}
)

// opened is what a PFX holds, once its password opened it: every key
// bag and every certificate, as stored, before any judgement.
type opened struct {
	keys  []storedKey
	certs [][]byte // DER, in the order stored
}

// storedKey is one key bag.
type storedKey struct {
	pkcs8      []byte // the decrypted PrivateKeyInfo
	encryption string // how the bag was encrypted, or "unencrypted"
	provider   string // the Microsoft CSP Name attribute: which Windows provider held the key
}

// accepted marks a failure that came after the password was accepted:
// the MAC verified, and then something else went wrong.
type accepted struct{ err error }

func (a accepted) Error() string { return a.err.Error() }
func (a accepted) Unwrap() error { return a.err }

// passwordAccepted reports whether openPFX failed after the password
// verified the MAC.
func passwordAccepted(err error) bool {
	var a accepted
	return errors.As(err, &a)
}

// openPFX checks the MAC with the password and decrypts every safe. der
// is the PFX without trailing bytes (see ReadStructure). Errors are
// *decodeFailure: PFX-03 when the password does not open the file,
// PFX-01 when it is damaged or uses what roster cannot read (after the
// password verified the MAC, passwordAccepted says so).
func openPFX(der []byte, pw roster.Secret) (*opened, error) {
	var pdu pfxPDU
	if err := unmarshalAll(der, &pdu); err != nil {
		return nil, &decodeFailure{"PFX-01", fmt.Errorf("%w: %v", errNotPFX, err)}
	}
	var authSafe []byte
	if err := unmarshalAll(pdu.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, &decodeFailure{"PFX-01", fmt.Errorf("%w: authenticated safe: %v", errNotPFX, err)}
	}
	forms := passwordForms(pw.Reveal())
	if len(pdu.MacData.FullBytes) > 0 {
		var md macData
		if err := unmarshalAll(pdu.MacData.FullBytes, &md); err != nil {
			return nil, &decodeFailure{"PFX-01", fmt.Errorf("%w: MAC: %v", errNotPFX, err)}
		}
		var verified []password
		for _, f := range forms {
			err := verifyMAC(&md, authSafe, f)
			if err == nil {
				verified = []password{f}
				break
			}
			if err != errWrongPassword {
				return nil, &decodeFailure{"PFX-01", err}
			}
		}
		if verified == nil {
			return nil, &decodeFailure{"PFX-03", errWrongPassword}
		}
		forms = verified
	}
	var err error
	for _, f := range forms {
		var o opened
		if err = o.readAuthSafe(authSafe, f); err == nil {
			return &o, nil
		}
		if err != errWrongPassword {
			break
		}
	}
	switch {
	case err == errWrongPassword:
		return nil, &decodeFailure{"PFX-03", err}
	case len(pdu.MacData.FullBytes) > 0:
		return nil, &decodeFailure{"PFX-01", accepted{err}}
	}
	return nil, &decodeFailure{"PFX-01", err}
}

func (o *opened) readAuthSafe(authSafe []byte, pw password) error {
	var infos []contentInfo
	if err := unmarshalAll(authSafe, &infos); err != nil {
		return fmt.Errorf("%w: content infos: %v", errNotPFX, err)
	}
	for _, ci := range infos {
		var safe []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if err := unmarshalAll(ci.Content.Bytes, &safe); err != nil {
				return fmt.Errorf("%w: data safe: %v", errNotPFX, err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if err := unmarshalAll(ci.Content.Bytes, &ed); err != nil {
				return fmt.Errorf("%w: encrypted safe: %v", errNotPFX, err)
			}
			var err error
			if safe, err = decrypt(ed.Info.Algorithm, ed.Info.Content.Bytes, pw); err != nil {
				return err
			}
		default:
			return unsupported("a safe of content type %v", ci.ContentType)
		}
		if err := o.readBags(safe, pw, 0); err != nil {
			return err
		}
	}
	return nil
}

// readBags reads a SafeContents: key bags, certificate bags, and safe
// contents bags nested in it. Other bags (CRLs, secrets) are not about
// the server's certificate, and are passed over.
func (o *opened) readBags(safe []byte, pw password, depth int) error {
	if depth > 3 {
		return unsupported("safe contents nested more than 3 deep")
	}
	var bags []safeBag
	if err := unmarshalAll(safe, &bags); err != nil {
		return fmt.Errorf("%w: safe bags: %v", errNotPFX, err)
	}
	for _, b := range bags {
		switch {
		case b.ID.Equal(oidKeyBag):
			o.keys = append(o.keys, storedKey{pkcs8: b.Value.Bytes, encryption: "unencrypted", provider: cspName(b.Attributes)})
		case b.ID.Equal(oidShroudedKeyBag):
			var k encryptedPrivateKeyInfo
			if err := unmarshalAll(b.Value.Bytes, &k); err != nil {
				return fmt.Errorf("%w: shrouded key bag: %v", errNotPFX, err)
			}
			der, err := decrypt(k.Algorithm, k.Data, pw)
			if err != nil {
				return err
			}
			o.keys = append(o.keys, storedKey{pkcs8: der, encryption: algorithmName(k.Algorithm), provider: cspName(b.Attributes)})
		case b.ID.Equal(oidCertBag):
			var cb struct {
				ID    asn1.ObjectIdentifier
				Value []byte `asn1:"tag:0,explicit"`
			}
			if err := unmarshalAll(b.Value.Bytes, &cb); err != nil {
				return fmt.Errorf("%w: certificate bag: %v", errNotPFX, err)
			}
			if cb.ID.Equal(oidX509Certificate) {
				o.certs = append(o.certs, cb.Value)
			}
		case b.ID.Equal(oidSafeContentsBag):
			if err := o.readBags(b.Value.Bytes, pw, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// cspName reads a bag's Microsoft CSP Name attribute, such as
// "Microsoft Software Key Storage Provider"; "" when it has none.
func cspName(attributes asn1.RawValue) string {
	var attrs []struct {
		ID     asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}
	if len(attributes.Bytes) == 0 {
		return ""
	}
	if _, err := asn1.UnmarshalWithParams(attributes.FullBytes, &attrs, "set"); err != nil {
		return ""
	}
	for _, a := range attrs {
		if !a.ID.Equal(oidCSPName) || len(a.Values) != 1 || a.Values[0].Tag != asn1.TagBMPString || len(a.Values[0].Bytes)%2 != 0 {
			continue
		}
		b := a.Values[0].Bytes
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		return string(utf16.Decode(u))
	}
	return ""
}
