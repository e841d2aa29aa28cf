package pfx

// Every rule roster checks, with every sentence it says about it, is in
// this file. The IDs follow the Entra DS certificate rule list (PFX-01 to
// PFX-07, CRT-01 to CRT-13, DOM-01 and DOM-03); PFX-08, PFX-09, CRT-14
// and CER-01 are roster's own.

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// titles names each rule in a few words, in report order.
var titles = []struct{ id, title string }{
	{"CER-01", "readable certificate"},
	{"PFX-01", "PKCS#12 file"},
	{"PFX-02", "password set"},
	{"PFX-03", "password opens the file"},
	{"PFX-04", "one private key"},
	{"PFX-05", "key belongs to the certificate"},
	{"PFX-06", "TripleDES-SHA1 encryption"},
	{"PFX-07", "password characters"},
	{"PFX-08", "server certificate stored first"},
	{"PFX-09", "nothing after the PKCS#12 structure"},
	{"CRT-01", "RSA key"},
	{"CRT-02", "key of 2048 bits or more"},
	{"CRT-03", "wildcard subject"},
	{"CRT-04", "wildcard DNS name (SAN)"},
	{"CRT-05", "domain DNS name (SAN)"},
	{"CRT-06", "key usage"},
	{"CRT-07", "server authentication"},
	{"CRT-08", "already valid"},
	{"CRT-09", "not expired"},
	{"CRT-10", "remaining validity"},
	{"CRT-11", "signature hash"},
	{"CRT-12", "issuer"},
	{"CRT-13", "complete chain"},
	{"CRT-14", "positive serial number"},
	{"DOM-01", "custom domain"},
	{"DOM-03", "domain prefix length"},
}

// noDomain is why the domain rules are skipped.
const noDomain = "no managed domain is known: the certificate names none in a wildcard, and none was given (-domain)"

const (
	msgNoPassword    = "the PFX must be protected by a password; Entra DS refuses a PFX without one"
	msgPasswordChars = "the password holds characters a PFX cannot carry (beyond U+FFFF, such as emoji); choose a password without them"
)

func pass(msg string, args ...any) Result {
	return Result{Status: Pass, Message: fmt.Sprintf(msg, args...)}
}
func warn(fix, msg string, args ...any) Result {
	return Result{Status: Warn, Message: fmt.Sprintf(msg, args...), Fix: fix}
}
func fail(fix, msg string, args ...any) Result {
	return Result{Status: Fail, Message: fmt.Sprintf(msg, args...), Fix: fix}
}
func skip(why string) Result { return Result{Status: Skip, Message: "not checked: " + why} }

const reexport = "In Windows, export again with Export-PfxCertificate -CryptoAlgorithmOption TripleDES_SHA1 (or the wizard's TripleDES-SHA1 choice); with OpenSSL 3, openssl pkcs12 -export -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1; or make a new one with roster cert new"

// ---- PFX rules

// ---- a certificate file

func ruleCER01(err error) Result {
	if err != nil {
		return fail("Give the certificate as exported: Base-64 (PEM) or DER .cer, or the .pfx with its key",
			"the file cannot be read as a certificate: %v", err)
	}
	return pass("the file holds a readable certificate")
}

func rulePFX01(err error) Result {
	switch {
	case err == nil:
		return pass("the file is a PKCS#12 (.pfx/.p12) file")
	case errors.Is(err, errNoCertificate):
		return fail("Export the certificate together with its private key",
			"the file is a PKCS#12 file, but holds a private key without its certificate")
	case errors.Is(err, errUnsupported):
		return fail("Export the file again from Windows (TripleDES-SHA1) or with roster cert new",
			"the file is a PKCS#12 file, but uses a feature roster cannot read (%s)", strings.TrimPrefix(errors.Unwrap(err).Error(), errUnsupported.Error()+": "))
	}
	return fail("Give the .pfx or .p12 file exported with its private key; a truncated, damaged or converted file cannot be read",
		"the file is not a readable PKCS#12 (.pfx/.p12) file: it is truncated, damaged, or another kind of file")
}

func rulePFX02(protected bool) Result {
	if !protected {
		return fail("Export it again with a password, and give roster that password with -password-file",
			"the file opens without a password; "+msgNoPassword)
	}
	return pass("the file is protected by a password")
}

func rulePFX03(err error, given bool) Result {
	switch {
	case err == nil:
		return pass("the password opens the file")
	case !given:
		return fail("Give the PFX password with -password-file (or ROSTER_PFX_PASSWORD)", "the file cannot be opened without its password, and none was given")
	}
	return fail("Check the password; it is the one chosen when the PFX was exported, not the account's", "the password is wrong: it does not open the file")
}

func rulePFX04(f *found) Result {
	switch len(f.keys) {
	case 0:
		return fail("Export again and answer \"Yes, export the private key\"; a .cer or a CA certificate alone cannot turn LDAPS on",
			"the file holds no private key, only %s", certificates(len(f.certs)))
	case 1:
	default:
		return fail("Export only the server certificate with its key",
			"the file holds %d different private keys; Entra DS needs exactly one", len(f.keys))
	}
	bags := f.keys[0].bags
	if len(bags) == 1 {
		return pass("the file holds one private key")
	}
	var providers []string
	for _, b := range bags {
		if b.provider != "" {
			providers = append(providers, b.provider)
		}
	}
	by := ""
	if len(providers) > 0 {
		by = " (" + strings.Join(providers, "; ") + ")"
	}
	// Windows writes such a file when the key is held by both a CAPI and
	// a CNG provider; its own import pairs each copy with its certificate
	// and keeps one key.
	return pass("the file holds one private key, stored %d times%s: the copies are the same key, as Windows exports a key that both a CAPI and a CNG provider hold; Windows' own import takes them as one key, and Entra DS takes what Windows exports, so Entra DS does not mind",
		len(bags), by)
}

func certificates(n int) string {
	if n == 1 {
		return "1 certificate"
	}
	return fmt.Sprintf("%d certificates", n)
}

func rulePFX05(leaf *x509.Certificate, belongs bool) Result {
	if !belongs {
		return fail("Export the certificate together with its own key, from the machine where it was made",
			"the private key does not belong to %s or to any certificate in the file", leaf.Subject.CommonName)
	}
	return pass("the private key belongs to %s", leaf.Subject.CommonName)
}

// rulePFX06 holds the file to what Windows' TripleDES-SHA1 export writes,
// the one encoding Entra DS is known to accept: the key and the
// certificates encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC, the MAC
// HMAC-SHA1. The key's encryption decides: anything else there fails.
// o is the opened file, or nil when it could not be opened: then only
// what the outer layers show is judged.
func rulePFX06(st *Structure, o *opened) Result {
	keys := slices.Clone(st.ShroudedKeys)
	for range st.KeyBags {
		keys = append(keys, "unencrypted")
	}
	if o != nil { // key bags inside encrypted safes are seen too
		keys = keys[:0]
		for _, k := range o.keys {
			keys = append(keys, k.encryption)
		}
	}
	desc := describeEncryption(keys, st)
	rest := describeEncryption(nil, st)
	var pbes2, plainKey bool
	keyOK := len(keys) > 0
	for _, a := range keys {
		keyOK = keyOK && a == tripleDES
		plainKey = plainKey || a == "unencrypted"
	}
	for _, a := range append(slices.Clone(keys), st.EncryptedSafes...) {
		pbes2 = pbes2 || strings.HasPrefix(a, "AES") || strings.HasPrefix(a, "PBES2")
	}
	certsOK := len(st.EncryptedSafes) > 0
	for _, a := range st.EncryptedSafes {
		certsOK = certsOK && a == tripleDES
	}
	switch {
	case pbes2:
		return fail(reexport, "the file is encrypted with %s; Entra DS accepts only TripleDES-SHA1 and fails to enable secure LDAP with AES or other PBES2 encryption", desc)
	case plainKey:
		return fail(reexport, "the private key is stored without encryption (%s); Entra DS expects it encrypted with TripleDES-SHA1", desc)
	case len(keys) == 0 && o != nil && (!certsOK || st.MAC != "SHA1"):
		return warn(reexport, "the file holds no private key to judge (PFX-04); as for the rest, %s, where Windows' TripleDES-SHA1 export encrypts the certificates with TripleDES and uses a SHA-1 MAC", rest)
	case len(keys) == 0 && o != nil:
		return pass("the file holds no private key to judge (PFX-04); as for the rest, %s, as in Windows' TripleDES-SHA1 export", rest)
	case len(keys) == 0 && (!certsOK || st.MAC != "SHA1"):
		return warn(reexport, "no private key is in sight without the password; as for the rest, %s, where Windows' TripleDES-SHA1 export encrypts everything with TripleDES and uses a SHA-1 MAC", rest)
	case len(keys) == 0:
		return pass("no private key is in sight without the password; as for the rest, %s, as in Windows' TripleDES-SHA1 export", rest)
	case !keyOK:
		return fail(reexport, "the private key is encrypted with %s; Entra DS expects TripleDES-SHA1 (%s)", counted(keys), desc)
	case !certsOK || st.MAC != "SHA1":
		return warn(reexport, "the file is encrypted with %s; Windows' TripleDES-SHA1 export encrypts the certificates with TripleDES too and uses a SHA-1 MAC, which is what Entra DS is known to accept", desc)
	}
	return pass("the file is encrypted with TripleDES-SHA1 (%s)", desc)
}

const tripleDES = "TripleDES-SHA1"

// describeEncryption says how each part of a file is protected: "key
// TripleDES-SHA1; certificates RC2-40-SHA1; MAC SHA1". Without keys, it
// speaks of the certificates and the MAC alone, in a sentence.
func describeEncryption(keys []string, st *Structure) string {
	certs := "certificates unencrypted"
	if len(st.EncryptedSafes) > 0 {
		certs = "certificates " + counted(st.EncryptedSafes)
	}
	mac := "no MAC"
	if st.MAC != "" {
		mac = "MAC " + st.MAC
	}
	if keys == nil {
		certs = "the certificates are unencrypted"
		if len(st.EncryptedSafes) > 0 {
			certs = "the certificates are encrypted with " + counted(st.EncryptedSafes)
		}
		if st.MAC == "" {
			return certs + " and the file has no MAC"
		}
		return certs + " and the MAC is " + st.MAC
	}
	key := "no key"
	if len(keys) > 0 {
		key = "key " + counted(keys)
	}
	return key + "; " + certs + "; " + mac
}

// counted lists names, each once, with how many times it comes when it
// comes more than once: "TripleDES-SHA1 (2 bags), RC2-40-SHA1".
func counted(names []string) string {
	var out []string
	for i, n := range names {
		if slices.Index(names, n) < i {
			continue
		}
		if c := len(slices.DeleteFunc(slices.Clone(names), func(m string) bool { return m != n })); c > 1 {
			n = fmt.Sprintf("%s (%d bags)", n, c)
		}
		out = append(out, n)
	}
	return strings.Join(out, ", ")
}

func rulePFX07(ok bool) Result {
	if !ok {
		return fail("Choose a password of letters, digits and punctuation, and export again", msgPasswordChars)
	}
	return pass("the password uses only characters a PFX can carry")
}

func rulePFX08(leaf *x509.Certificate, stored []*x509.Certificate, first bool) Result {
	if !first {
		return fail("Export again so the server certificate comes first (Windows' export does this); roster cert new writes it that way",
			"the certificates are stored CA first: %s comes before the server certificate %s, and many importers (some Java and Windows tools, Go's PKCS#12 reader) take the first certificate as the server's",
			stored[0].Subject.CommonName, leaf.Subject.CommonName)
	}
	return pass("the server certificate is stored first")
}

func rulePFX09(st *Structure) Result {
	switch {
	case st.Trailing == 0:
		return pass("nothing follows the PKCS#12 structure")
	case st.TrailingZero:
		return pass("%s follow the PKCS#12 structure, as Windows' export sometimes leaves; Windows, OpenSSL, keytool and roster ignore them", plural(st.Trailing, "zero byte"))
	}
	return warn("Export the file again, or take the original: one that was converted, mailed or downloaded may have been damaged",
		"%s follow the PKCS#12 structure, and not all are zero: the file may be damaged, or two files run together; roster read the PKCS#12 structure and ignored the rest", plural(st.Trailing, "byte"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ---- certificate rules

func ruleCRT01(c *x509.Certificate) Result {
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return fail("Make the certificate with an RSA key (New-SelfSignedCertificate's default, or roster cert new)", "the key is %s; the certificate must have an RSA key", KeyDescription(c))
	}
	return pass("the key is RSA")
}

func ruleCRT02(c *x509.Certificate) Result {
	k, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return skip("the key is not RSA (CRT-01)")
	}
	bits := k.N.BitLen()
	switch {
	case bits < 2048:
		return fail("Make a new certificate with a 2048-bit key or larger", "the RSA key is %d bits; at least 2048 are required", bits)
	case bits > 2048:
		return pass("the RSA key is %d bits, more than the 2048 required", bits)
	}
	return pass("the RSA key is 2048 bits")
}

func ruleCRT03(c *x509.Certificate, domain string) Result {
	cn := c.Subject.CommonName
	switch {
	case domain == "" && !strings.HasPrefix(cn, "*."):
		return fail("Make the certificate for CN=*.<managed domain>, for example with roster cert new -domain <domain>",
			"the subject is CN=%s, not a wildcard; Entra DS needs CN=*.<managed domain> (a wildcard only in the DNS names is not enough)", cn)
	case domain == "":
		return skip(noDomain)
	case strings.EqualFold(cn, "*."+domain):
		return pass("the subject is CN=%s", cn)
	case !strings.HasPrefix(cn, "*."):
		return fail("Make the certificate for CN=*."+domain+", for example with roster cert new -domain "+domain,
			"the subject is CN=%s, not the wildcard CN=*.%s that Entra DS needs (a wildcard only in the DNS names is not enough)", cn, domain)
	}
	return fail("Make the certificate for the managed domain's name, which is not always the tenant's main domain",
		"the subject is CN=%s, which is for another domain than the managed domain %s", cn, domain)
}

func ruleCRT04(c *x509.Certificate, domain string) Result {
	switch {
	case len(c.DNSNames) == 0:
		return fail("Add DNS names (Subject Alternative Names) *.<domain> and <domain>; with PowerShell, -DnsName \"*.<domain>\", \"<domain>\"",
			"the certificate has no DNS names (Subject Alternative Name); clients ignore the subject and need *.%s there", orDomain(domain))
	case domain == "":
		// A domain comes from a wildcard, so there is none in the names.
		return fail("Make the certificate with the DNS names *.<managed domain> and <managed domain>, for example with roster cert new -domain <domain>",
			"the DNS names (%s) hold no wildcard; Entra DS needs *.<managed domain> there", strings.Join(c.DNSNames, ", "))
	case hasName(c, "*."+domain):
		return pass("the DNS names include *.%s", domain)
	}
	return fail("Add *."+domain+" to the DNS names (Subject Alternative Names)", "the DNS names (%s) do not include *.%s", strings.Join(c.DNSNames, ", "), domain)
}

func ruleCRT05(c *x509.Certificate, domain string) Result {
	switch {
	case domain == "":
		return skip(noDomain)
	case hasName(c, domain):
		return pass("the DNS names include %s", domain)
	}
	return warn("Add "+domain+" as a DNS name too, as the current Microsoft tutorial does", "the DNS names do not include %s itself", domain)
}

func ruleCRT06(c *x509.Certificate) Result {
	want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	if c.KeyUsage&want != want {
		return fail("Make the certificate with key usage Digital Signature and Key Encipherment (-KeyUsage DigitalSignature, KeyEncipherment)",
			"the key usage is %s; it must include Digital Signature and Key Encipherment", keyUsageNames(c.KeyUsage))
	}
	return pass("the key usage includes Digital Signature and Key Encipherment")
}

func ruleCRT07(c *x509.Certificate) Result {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			return pass("the extended key usage includes Server Authentication")
		}
		if u == x509.ExtKeyUsageAny {
			return pass("the extended key usage allows any purpose, Server Authentication included")
		}
	}
	return fail("Make the certificate with Server Authentication (1.3.6.1.5.5.7.3.1), which -Type SSLServerAuthentication sets",
		"the extended key usage does not include Server Authentication (1.3.6.1.5.5.7.3.1)")
}

func ruleCRT08(c *x509.Certificate, now time.Time) Result {
	if now.Before(c.NotBefore) {
		return fail("Check this machine's clock, or wait until the certificate becomes valid",
			"the certificate is not valid yet: it starts on %s", day(c.NotBefore))
	}
	return pass("the certificate has been valid since %s", day(c.NotBefore))
}

func ruleCRT09(c *x509.Certificate, now time.Time) Result {
	if !now.Before(c.NotAfter) {
		return fail("Make a new certificate (roster cert new) and upload it: Secure LDAP, Change certificate",
			"the certificate expired on %s; secure LDAP stops working the day it expires", day(c.NotAfter))
	}
	return pass("the certificate is valid until %s", day(c.NotAfter))
}

func ruleCRT10(c *x509.Certificate, now time.Time, failDays, warnDays int) Result {
	d := DaysLeft(c, now)
	switch {
	case !now.Before(c.NotAfter):
		return skip("the certificate has expired (CRT-09)")
	case d < failDays:
		return fail("Make a certificate valid for a year (roster cert new -days 365)",
			"the certificate expires in %d days, on %s; Entra DS wants it valid for at least the next 3 to 6 months", d, day(c.NotAfter))
	case d < warnDays:
		return warn("Plan the renewal: make the next certificate now and switch with Secure LDAP, Change certificate",
			"the certificate expires in %d days, on %s; less than the 6 months Entra DS asks for", d, day(c.NotAfter))
	}
	return pass("%d days of validity remain", d)
}

// ruleCRT11 fails a broken hash where clients check it: on a CA-issued
// certificate, whose CA's signature every client verifies. A self-signed
// certificate is trusted as it is, its own signature unchecked, so SHA-1
// there only warns; MD5 and MD2 fail everywhere.
func ruleCRT11(c *x509.Certificate) Result {
	h := weakHash(c.SignatureAlgorithm)
	switch {
	case h == "":
		return pass("the certificate is signed with %s", c.SignatureAlgorithm)
	case h == "SHA-1" && selfSigned(c):
		return warn("Make the certificate again with SHA-256 at its next renewal (roster cert new does)",
			"the certificate is self-signed with %s: clients trust a self-signed certificate as it is, without checking its own signature, so SHA-1 does no harm here, but scanners and auditors flag it", c.SignatureAlgorithm)
	}
	return fail("Make the certificate again with SHA-256 (roster cert new does)",
		"the certificate is signed with %s, a broken hash: public CAs stopped issuing such certificates in 2016, and Go, Java and browsers refuse them on CA-issued certificates", c.SignatureAlgorithm)
}

func ruleCRT12(c *x509.Certificate) Result {
	if selfSigned(c) {
		return pass("the certificate is self-signed: every client must trust its .cer (import it into Trusted Root Certification Authorities, or give it to roster with -ca)")
	}
	return pass("the certificate is issued by %s", c.Issuer.CommonName)
}

const (
	fixChainInFile   = "Export again with \"Include all certificates in the certification path if possible\""
	fixChainOrder    = "Configure the server to send its certificate first, then each issuing CA in order"
	fixWeakChain     = "Have the CA issue the certificate again under a SHA-256 chain; SHA-1 and MD5 signatures are refused on CA-issued certificates"
	fixExpiredCA     = "Renew the expired CA certificate, or have a current CA issue the server certificate, and export the whole chain again"
	fixRefusedChain  = "Have the CA issue the certificate again from a CA certificate fit for signing (basic constraints CA, key usage Certificate Sign)"
	fixImpostorChain = "Export the chain again from the machine where the certificate is installed: a CA certificate of the right name but another key is in the way"
)

// ruleCRT13File checks that a CA-issued certificate's chain, up to its
// root, is in the file, and that it verifies. It says which: the chain is
// missing, or it is there and does not verify, and why.
func ruleCRT13File(leaf *x509.Certificate, others []*x509.Certificate, now time.Time) Result {
	if selfSigned(leaf) {
		return pass("no chain is needed for a self-signed certificate")
	}
	ch := followChain(leaf, others, now)
	last := ch.path[len(ch.path)-1]
	switch {
	case ch.stop == stopMissing && len(ch.path) == 1:
		return warn(fixChainInFile,
			"the chain is missing: the file holds no certificate of %s's issuer %s, so clients that do not already trust that CA cannot verify it",
			leaf.Subject.CommonName, leaf.Issuer.CommonName)
	case ch.stop == stopMissing:
		return warn(fixChainInFile,
			"the chain is incomplete: the file holds it up to %s, but not %s, which issued that", last.Subject.CommonName, last.Issuer.CommonName)
	case ch.stop == stopBadSignature:
		return warn(fixImpostorChain,
			"the chain is in the file but does not verify: %s is named as the issuer of %s, but its key did not sign it",
			ch.impostor.Subject.CommonName, last.Subject.CommonName)
	}
	if why, fix := chainFaults(ch); why != "" {
		return warn(fix, "the chain up to %s is in the file, but does not verify: %s", ch.root().Subject.CommonName, why)
	}
	return pass("the chain up to %s is in the file, and verifies", ch.root().Subject.CommonName)
}

// chainFaults says why a chain that is all there does not verify, with
// the fix; "" when it verifies.
func chainFaults(ch *chain) (why, fix string) {
	var whys, fixes []string
	if len(ch.weak) > 0 {
		var names []string
		for _, c := range ch.weak {
			names = append(names, fmt.Sprintf("%s (%s)", c.Subject.CommonName, c.SignatureAlgorithm))
		}
		whys = append(whys, "the CA signatures on "+strings.Join(names, " and ")+" use a broken hash, which Go, Java and current browsers refuse on CA-issued certificates")
		fixes = append(fixes, fixWeakChain)
	}
	for _, c := range ch.notValid {
		if ch.now.After(c.NotAfter) {
			whys = append(whys, fmt.Sprintf("the CA certificate %s expired on %s", c.Subject.CommonName, day(c.NotAfter)))
		} else {
			whys = append(whys, fmt.Sprintf("the CA certificate %s is not valid until %s", c.Subject.CommonName, day(c.NotBefore)))
		}
	}
	if len(ch.notValid) > 0 {
		fixes = append(fixes, fixExpiredCA)
	}
	if len(whys) == 0 && ch.refused != nil {
		whys = append(whys, "Go refuses it: "+strings.TrimPrefix(ch.refused.Error(), "x509: "))
		fixes = append(fixes, fixRefusedChain)
	}
	return strings.Join(whys, "; "), strings.Join(fixes, "; ")
}

// ruleCRT13Chain checks the chain a server presented: each certificate
// must be signed by the next, with hashes and CAs clients accept. The
// root may be left out: clients hold it.
func ruleCRT13Chain(sent []*x509.Certificate, now time.Time) Result {
	leaf := sent[0]
	ch := followChain(leaf, sent[1:], now)
	for i, c := range ch.path {
		if c != sent[i] {
			pos := slices.Index(sent, c)
			return warn(fixChainOrder,
				"the server sends its chain in the wrong order: %s was issued by %s, which it sends in position %d, not next", ch.path[i-1].Subject.CommonName, c.Subject.CommonName, pos+1)
		}
	}
	switch {
	case ch.stop == stopBadSignature:
		return warn(fixChainOrder, "the server's chain is broken: %s is not signed by %s, which has its issuer's name", ch.path[len(ch.path)-1].Subject.CommonName, ch.impostor.Subject.CommonName)
	case len(sent) == 1 && ch.stop == stopMissing:
		return warn("If clients cannot build the chain, configure the server to send its intermediate CA certificates",
			"the server sends only its own certificate; clients must already hold %s's issuing CAs", leaf.Subject.CommonName)
	case len(ch.path) < len(sent):
		last := ch.path[len(ch.path)-1]
		return warn(fixChainOrder, "the server's chain is broken: %s is not signed by the next certificate, %s", last.Subject.CommonName, sent[len(ch.path)].Subject.CommonName)
	}
	ch.refused = nil // the root is the client's: Go's verdict without it says little
	if why, fix := chainFaults(ch); why != "" {
		return warn(fix, "the server's chain does not verify: %s", why)
	}
	return pass("the server sends a chain of %d certificate(s), each signed by the next", len(sent))
}

func ruleCRT14(c *x509.Certificate) Result {
	switch c.SerialNumber.Sign() {
	case -1:
		return fail("Make a new certificate (roster cert new gives it a positive serial) and upload it: Secure LDAP, Change certificate",
			"the serial number %s is negative: RFC 5280 wants a positive one, and current software refuses such a certificate (Go since 1.23, and so roster's own LDAP client, among others), though Windows still takes it; roster read it anyway, to check every other rule",
			strings.ToUpper(c.SerialNumber.Text(16)))
	case 0:
		return warn("Make a new certificate (roster cert new gives it a random positive serial)",
			"the serial number is 0: RFC 5280 wants a positive one, and some software refuses it")
	}
	return pass("the serial number is positive")
}

func ruleDOM01(domain string) Result {
	if domain == "" {
		return skip(noDomain)
	}
	if strings.HasSuffix(domain, ".onmicrosoft.com") {
		return warn("Use a custom domain you own for the managed domain; then a public CA can issue the certificate",
			"%s is an onmicrosoft.com domain: no public CA will issue for it, so only a self-signed certificate is possible", domain)
	}
	return pass("%s is a custom domain", domain)
}

func ruleDOM03(domain string) Result {
	if domain == "" {
		return skip(noDomain)
	}
	prefix, _, _ := strings.Cut(domain, ".")
	if len(prefix) > 15 {
		return warn("Choose a managed domain whose first label has 15 characters or fewer",
			"the domain prefix %q has %d characters; Entra DS allows at most 15", prefix, len(prefix))
	}
	return pass("the domain prefix %q is 15 characters or fewer", prefix)
}

// ---- helpers

func hasName(c *x509.Certificate, name string) bool {
	for _, n := range c.DNSNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func orDomain(d string) string {
	if d == "" {
		return "<domain>"
	}
	return d
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func keyUsageNames(u x509.KeyUsage) string {
	names := []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, "Digital Signature"}, {x509.KeyUsageContentCommitment, "Non-Repudiation"},
		{x509.KeyUsageKeyEncipherment, "Key Encipherment"}, {x509.KeyUsageDataEncipherment, "Data Encipherment"},
		{x509.KeyUsageKeyAgreement, "Key Agreement"}, {x509.KeyUsageCertSign, "Certificate Sign"},
		{x509.KeyUsageCRLSign, "CRL Sign"},
	}
	var out []string
	for _, n := range names {
		if u&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "not set"
	}
	return strings.Join(out, ", ")
}
