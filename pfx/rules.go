package pfx

// Every rule roster checks, with every sentence it says about it, is in
// this file. The IDs follow the Entra DS certificate rule list (PFX-01 to
// PFX-07, CRT-01 to CRT-13, DOM-01 and DOM-03); PFX-08 and CER-01 are
// roster's own.

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
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
	{"DOM-01", "custom domain"},
	{"DOM-03", "domain prefix length"},
}

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

func rulePFX04(err error) Result {
	if err != nil {
		if strings.Contains(err.Error(), "exactly one key") {
			return fail("Export only the server certificate with its key", "the file holds more than one private key; Entra DS needs exactly one")
		}
		return fail("Export again and answer \"Yes, export the private key\"; a .cer or a CA certificate alone cannot turn LDAPS on",
			"the file holds no private key")
	}
	return pass("the file holds one private key")
}

func rulePFX05(c *Contents) Result {
	if !c.KeyMatches {
		return fail("Export the certificate together with its own key, from the machine where it was made",
			"the private key does not belong to %s or to any certificate in the file", c.Leaf.Subject.CommonName)
	}
	return pass("the private key belongs to %s", c.Leaf.Subject.CommonName)
}

// rulePFX06 holds the file to what Windows' TripleDES-SHA1 export writes,
// the one encoding Entra DS is known to accept: the key and the
// certificates encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC, the MAC
// HMAC-SHA1. The key's encryption decides: anything else there fails.
func rulePFX06(st *Structure) Result {
	desc := describeEncryption(st)
	keyOK := len(st.ShroudedKeys) > 0 && st.KeyBags == 0
	for _, a := range st.ShroudedKeys {
		keyOK = keyOK && a == tripleDES
	}
	var pbes2 bool
	for _, a := range append(append([]string{}, st.ShroudedKeys...), st.EncryptedSafes...) {
		pbes2 = pbes2 || strings.HasPrefix(a, "AES") || strings.HasPrefix(a, "PBES2")
	}
	certsOK := len(st.EncryptedSafes) > 0
	for _, a := range st.EncryptedSafes {
		certsOK = certsOK && a == tripleDES
	}
	switch {
	case pbes2:
		return fail(reexport, "the file is encrypted with %s; Entra DS accepts only TripleDES-SHA1 and fails to enable secure LDAP with AES or other PBES2 encryption", desc)
	case st.KeyBags > 0:
		return fail(reexport, "the private key is stored without encryption (%s); Entra DS expects it encrypted with TripleDES-SHA1", desc)
	case !keyOK:
		return fail(reexport, "the private key is encrypted with %s; Entra DS expects TripleDES-SHA1", desc)
	case !certsOK || st.MAC != "SHA1":
		return warn(reexport, "the file is encrypted with %s; Windows' TripleDES-SHA1 export encrypts the certificates with TripleDES too and uses a SHA-1 MAC, which is what Entra DS is known to accept", desc)
	}
	return pass("the file is encrypted with TripleDES-SHA1 (%s)", desc)
}

const tripleDES = "TripleDES-SHA1"

func describeEncryption(st *Structure) string {
	var parts []string
	if len(st.ShroudedKeys) > 0 {
		parts = append(parts, "key "+strings.Join(st.ShroudedKeys, ", "))
	}
	if st.KeyBags > 0 {
		parts = append(parts, "key unencrypted")
	}
	if len(st.EncryptedSafes) > 0 {
		parts = append(parts, "certificates "+strings.Join(st.EncryptedSafes, ", "))
	} else {
		parts = append(parts, "certificates unencrypted")
	}
	if st.MAC != "" {
		parts = append(parts, "MAC "+st.MAC)
	}
	return strings.Join(parts, "; ")
}

func rulePFX07(ok bool) Result {
	if !ok {
		return fail("Choose a password of letters, digits and punctuation, and export again", msgPasswordChars)
	}
	return pass("the password uses only characters a PFX can carry")
}

func rulePFX08(c *Contents) Result {
	if !c.LeafFirst {
		return fail("Export again so the server certificate comes first (Windows' export does this); roster cert new writes it that way",
			"the certificates are stored CA first: %s comes before the server certificate %s, and many importers (some Java and Windows tools, Go's PKCS#12 reader) take the first certificate as the server's",
			c.Others[0].Subject.CommonName, c.Leaf.Subject.CommonName)
	}
	return pass("the server certificate is stored first")
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
		return skip("no managed domain is known")
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
		return skip("no managed domain is known")
	case hasName(c, "*."+domain):
		return pass("the DNS names include *.%s", domain)
	}
	return fail("Add *."+domain+" to the DNS names (Subject Alternative Names)", "the DNS names (%s) do not include *.%s", strings.Join(c.DNSNames, ", "), domain)
}

func ruleCRT05(c *x509.Certificate, domain string) Result {
	switch {
	case domain == "":
		return skip("no managed domain is known")
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

func ruleCRT11(c *x509.Certificate) Result {
	switch c.SignatureAlgorithm {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
		return fail("Make the certificate again with SHA-256 (roster cert new does)",
			"the certificate is signed with %s, a broken hash: public CAs stopped issuing such certificates in 2016, and Go, Java and browsers refuse them on CA-issued certificates", c.SignatureAlgorithm)
	}
	return pass("the certificate is signed with %s", c.SignatureAlgorithm)
}

func ruleCRT12(c *x509.Certificate) Result {
	if selfSigned(c) {
		return pass("the certificate is self-signed: every client must trust its .cer (import it into Trusted Root Certification Authorities, or give it to roster with -ca)")
	}
	return pass("the certificate is issued by %s", c.Issuer.CommonName)
}

// ruleCRT13File checks that a CA-issued certificate's chain can be built
// from the certificates in the file.
func ruleCRT13File(leaf *x509.Certificate, others []*x509.Certificate, now time.Time) Result {
	if selfSigned(leaf) {
		return pass("no chain is needed for a self-signed certificate")
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	haveRoot := false
	for _, o := range others {
		if selfSigned(o) {
			roots.AddCert(o)
			haveRoot = true
		} else {
			inter.AddCert(o)
		}
	}
	if haveRoot {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			return pass("the chain up to %s is in the file", leafRoot(others).Subject.CommonName)
		}
	}
	return warn("Export again with \"Include all certificates in the certification path if possible\"",
		"the chain is incomplete: the file does not hold the certificates that lead from %s to its root CA (issuer %s)",
		leaf.Subject.CommonName, leaf.Issuer.CommonName)
}

// ruleCRT13Chain checks the order of a chain a server presented: each
// certificate must be signed by the next.
func ruleCRT13Chain(chain []*x509.Certificate) Result {
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return warn("Configure the server to send its certificate first, then each issuing CA in order",
				"the server's chain is broken or out of order: %s is not signed by the next certificate, %s", chain[i].Subject.CommonName, chain[i+1].Subject.CommonName)
		}
	}
	if len(chain) == 1 && !selfSigned(chain[0]) {
		return warn("If clients cannot build the chain, configure the server to send its intermediate CA certificates",
			"the server sends only its own certificate; clients must already hold %s's issuing CAs", chain[0].Subject.CommonName)
	}
	return pass("the server sends a chain of %d certificate(s), each signed by the next", len(chain))
}

func ruleDOM01(domain string) Result {
	if domain == "" {
		return skip("no managed domain is known")
	}
	if strings.HasSuffix(domain, ".onmicrosoft.com") {
		return warn("Use a custom domain you own for the managed domain; then a public CA can issue the certificate",
			"%s is an onmicrosoft.com domain: no public CA will issue for it, so only a self-signed certificate is possible", domain)
	}
	return pass("%s is a custom domain", domain)
}

func ruleDOM03(domain string) Result {
	if domain == "" {
		return skip("no managed domain is known")
	}
	prefix, _, _ := strings.Cut(domain, ".")
	if len(prefix) > 15 {
		return warn("Choose a managed domain whose first label has 15 characters or fewer",
			"the domain prefix %q has %d characters; Entra DS allows at most 15", prefix, len(prefix))
	}
	return pass("the domain prefix %q is 15 characters or fewer", prefix)
}

// ---- helpers

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func leafRoot(others []*x509.Certificate) *x509.Certificate {
	for _, o := range others {
		if selfSigned(o) {
			return o
		}
	}
	return others[len(others)-1]
}

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
