package pfx

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Status is the outcome of one rule.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn" // works, but is risky or may be refused
	Fail Status = "fail" // Entra DS or clients will refuse it
	Skip Status = "skip" // could not be checked, because an earlier rule failed or nothing to check against
)

// Result is one rule's outcome, in a sentence an admin understands, with
// the fix when it did not pass.
type Result struct {
	Rule    string `json:"rule"`
	Title   string `json:"title"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Report is the outcome of a check.
type Report struct {
	Kind         string     `json:"kind"` // "pfx", "certificate" or "server chain"
	Domain       string     `json:"domain,omitempty"`
	DomainSource string     `json:"domain_source,omitempty"` // "given" or "certificate"
	Certificate  *Summary   `json:"certificate,omitempty"`
	Chain        []*Summary `json:"chain,omitempty"` // the other certificates, as stored or sent
	Results      []Result   `json:"results"`
}

// Failed reports whether any rule failed.
func (r *Report) Failed() bool { return r.Count(Fail) > 0 }

// Count returns how many rules ended with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Options tune a check.
type Options struct {
	// Domain is the Entra DS managed domain the certificate is for. When
	// empty, it is taken from the certificate's wildcard subject or name.
	Domain   string
	Password roster.Secret // for a PFX
	Now      time.Time     // zero means time.Now()
	FailDays int           // CRT-10 fails below this many days left; 0 means 90
	WarnDays int           // CRT-10 warns below this; 0 means 180
}

func (o *Options) defaults() {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.FailDays == 0 {
		o.FailDays = 90
	}
	if o.WarnDays == 0 {
		o.WarnDays = 180
	}
	o.Domain = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(o.Domain), "*."), "."))
}

// CheckFile checks a .pfx/.p12, or a .cer/.pem certificate (then only the
// certificate and domain rules apply). It never fails: every problem,
// including a file that cannot be read at all, is a rule's result.
func CheckFile(data []byte, opt Options) *Report {
	opt.defaults()
	if certs, err, ok := asCertificates(data); ok {
		r := &Report{Kind: "certificate"}
		r.add("CER-01", ruleCER01(err))
		if err != nil {
			r.skipRest("the certificate could not be read (CER-01)")
			return r
		}
		certRules(r, certs[0], certs[1:], opt, false)
		return r
	}
	return checkPFX(data, opt)
}

// CheckChain checks the chain a server presented, leaf first: the
// certificate and domain rules, with CRT-13 checking the order sent.
func CheckChain(chain []*x509.Certificate, opt Options) *Report {
	opt.defaults()
	r := &Report{Kind: "server chain"}
	if len(chain) == 0 {
		r.add("CRT-01", fail("Check that the address and port are the directory's secure LDAP endpoint", "the server presented no certificate"))
		return r
	}
	certRules(r, chain[0], chain[1:], opt, true)
	return r
}

// asCertificates says whether data is a certificate file rather than a
// PFX: any PEM file, or DER shaped like a certificate. It returns the
// certificates, or why they cannot be read.
func asCertificates(data []byte) ([]*x509.Certificate, error, bool) {
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		if !bytes.Contains(data, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, errPEMWithoutCertificate, true
		}
		certs, err := parseCertificates(data, parseCertificate)
		return certs, err, true
	}
	var shape struct {
		TBS, Algorithm asn1.RawValue
		Signature      asn1.BitString
	}
	if _, err := asn1.Unmarshal(data, &shape); err != nil || shape.TBS.Tag != asn1.TagSequence {
		return nil, nil, false // not a certificate: read it as a PFX
	}
	c, err := parseCertificate(data)
	if err != nil {
		return nil, errors.New(certParseReason(err)), true
	}
	return []*x509.Certificate{c}, nil, true
}

var errPEMWithoutCertificate = errors.New("the PEM file holds no CERTIFICATE block (a private key alone, perhaps)")

func checkPFX(data []byte, opt Options) *Report {
	r := &Report{Kind: "pfx"}
	pw := opt.Password
	st, err := ReadStructure(data)
	r.add("PFX-01", rulePFX01(err))
	if err != nil {
		r.skipRest("the file could not be read (PFX-01)")
		return r
	}
	r.add("PFX-09", rulePFX09(st))
	der, _, _ := splitPFX(data)
	// PFX-02 is about the file, not about what the admin typed: a file
	// that opens with an empty password is not protected.
	o, err := openPFX(der, "")
	switch {
	case err == nil || passwordAccepted(err):
		r.add("PFX-02", rulePFX02(false))
		r.add("PFX-07", skip("the file has no password, so there are no password characters to check"))
		r.add("PFX-03", pass("the file opens, without a password"))
	case failedRule(err) != "PFX-03":
		// Not even an empty password can be tried: the file is damaged,
		// or protected in a way roster does not read.
		r.Results[0] = result("PFX-01", rulePFX01(err))
		r.add("PFX-06", rulePFX06(st, nil))
		r.skipRest("the file could not be opened to see inside (PFX-01)")
		return r
	default:
		r.add("PFX-02", rulePFX02(true))
		if !bmpOnly(pw.Reveal()) {
			r.add("PFX-07", rulePFX07(false))
			r.add("PFX-06", rulePFX06(st, nil))
			r.skipRest("the password cannot be used (PFX-07), and the file cannot be opened without it")
			return r
		}
		r.add("PFX-07", rulePFX07(true))
		if o, err = openPFX(der, pw); err != nil && failedRule(err) == "PFX-03" {
			r.add("PFX-03", rulePFX03(err, pw.IsSet()))
			r.add("PFX-06", rulePFX06(st, nil))
			r.skipRest("the password does not open the file (PFX-03), and what it protects cannot be read without it")
			return r
		}
		r.add("PFX-03", rulePFX03(nil, true))
	}
	var f *found
	if err == nil {
		f, err = o.sort()
	}
	if err != nil {
		r.Results[0] = result("PFX-01", rulePFX01(err))
		r.add("PFX-06", rulePFX06(st, nil))
		r.skipRest("the PFX could not be opened (PFX-01)")
		return r
	}
	r.add("PFX-06", rulePFX06(st, o))
	r.add("PFX-04", rulePFX04(f))
	ci, ki := f.server()
	switch {
	case len(f.keys) == 0:
		r.add("PFX-05", skip("the file holds no private key (PFX-04)"))
		r.add("PFX-08", skip("the file holds no private key to tell the server certificate by (PFX-04)"))
	case ci < 0:
		r.add("PFX-05", skip("the file holds no certificate"))
		r.add("PFX-08", skip("the file holds no certificate"))
	case ki < 0:
		r.add("PFX-05", rulePFX05(f.certs[ci], false))
		r.add("PFX-08", skip("no certificate matches the key (PFX-05)"))
	default:
		r.add("PFX-05", rulePFX05(f.certs[ci], true))
		r.add("PFX-08", rulePFX08(f.certs[ci], f.certs, ci == 0))
	}
	if ci < 0 {
		r.skipRest("the file holds no certificate")
		return r
	}
	certRules(r, f.certs[ci], slices.Delete(slices.Clone(f.certs), ci, ci+1), opt, false)
	return r
}

// certRules runs CRT-01 to CRT-14 and the domain rules on a leaf.
func certRules(r *Report, leaf *x509.Certificate, others []*x509.Certificate, opt Options, served bool) {
	r.Certificate = Summarize(leaf, opt.Now)
	for _, o := range others {
		r.Chain = append(r.Chain, Summarize(o, opt.Now))
	}
	r.Domain, r.DomainSource = opt.Domain, "given"
	if r.Domain == "" {
		r.Domain, r.DomainSource = domainOf(leaf), "certificate"
		if r.Domain == "" {
			r.DomainSource = ""
		}
	}
	r.add("CRT-01", ruleCRT01(leaf))
	r.add("CRT-02", ruleCRT02(leaf))
	r.add("CRT-03", ruleCRT03(leaf, r.Domain))
	r.add("CRT-04", ruleCRT04(leaf, r.Domain))
	r.add("CRT-05", ruleCRT05(leaf, r.Domain))
	r.add("CRT-06", ruleCRT06(leaf))
	r.add("CRT-07", ruleCRT07(leaf))
	r.add("CRT-08", ruleCRT08(leaf, opt.Now))
	r.add("CRT-09", ruleCRT09(leaf, opt.Now))
	r.add("CRT-10", ruleCRT10(leaf, opt.Now, opt.FailDays, opt.WarnDays))
	r.add("CRT-11", ruleCRT11(leaf))
	r.add("CRT-12", ruleCRT12(leaf))
	if served {
		r.add("CRT-13", ruleCRT13Chain(append([]*x509.Certificate{leaf}, others...), opt.Now))
	} else {
		r.add("CRT-13", ruleCRT13File(leaf, others, opt.Now))
	}
	r.add("CRT-14", ruleCRT14(leaf))
	r.add("DOM-01", ruleDOM01(r.Domain))
	r.add("DOM-03", ruleDOM03(r.Domain))
	r.sort()
}

// domainOf takes the managed domain from a wildcard subject, or else from
// the first wildcard DNS name.
func domainOf(c *x509.Certificate) string {
	if d, ok := strings.CutPrefix(strings.ToLower(c.Subject.CommonName), "*."); ok {
		return d
	}
	for _, n := range c.DNSNames {
		if d, ok := strings.CutPrefix(strings.ToLower(n), "*."); ok {
			return d
		}
	}
	return ""
}

func result(id string, res Result) Result {
	res.Rule = id
	for _, t := range titles {
		if t.id == id {
			res.Title = t.title
		}
	}
	return res
}

func (r *Report) add(id string, res Result) { r.Results = append(r.Results, result(id, res)) }

// skipRest reports every rule of the report's kind not yet reported as
// skipped.
func (r *Report) skipRest(why string) {
	done := map[string]bool{}
	for _, res := range r.Results {
		done[res.Rule] = true
	}
	for _, t := range titles {
		own := strings.HasPrefix(t.id, "CRT") || strings.HasPrefix(t.id, "DOM") ||
			strings.HasPrefix(t.id, "PFX") && r.Kind == "pfx" ||
			strings.HasPrefix(t.id, "CER") && r.Kind == "certificate"
		if own && !done[t.id] {
			r.add(t.id, skip(why))
		}
	}
	r.sort()
}

// sort puts the results in the order of the rule list.
func (r *Report) sort() {
	order := map[string]int{}
	for i, t := range titles {
		order[t.id] = i
	}
	slices.SortStableFunc(r.Results, func(a, b Result) int { return order[a.Rule] - order[b.Rule] })
}
