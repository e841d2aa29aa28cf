package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
)

type probeReport struct {
	URL        string      `json:"url"`
	CAFile     string      `json:"ca_file,omitempty"` // empty: the system roots
	ServerName string      `json:"server_name"`
	TLSVersion string      `json:"tls_version"`
	Trusted    bool        `json:"trusted"`
	TrustedBy  string      `json:"trusted_by,omitempty"` // "chain" or "pin"
	Problem    string      `json:"problem,omitempty"`
	SavedCer   string      `json:"saved_cer,omitempty"`
	Check      *pfx.Report `json:"check"`
	Warnings   []string    `json:"warnings,omitempty"`
}

func runCertProbe(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "cert probe", "ldaps://HOST[:636] | ldap://HOST[:389] -starttls [flags]")
	serverName := fs.String("server-name", "", "the name the certificate must carry (default: the host, or ldaps.<domain> for an IP)")
	domain := fs.String("domain", "", "the managed domain; names the server for an IP address and is checked against the certificate")
	caFile := fs.String("ca", "", "trust only this CA certificate or .cer (PEM or DER), instead of the system roots")
	pin := fs.String("pin-sha256", "", "trust exactly the certificate with this SHA-256 fingerprint")
	startTLS := fs.Bool("starttls", false, "use StartTLS on an ldap:// address (port 389) instead of LDAPS")
	saveCer := fs.String("save-cer", "", "write the top certificate the server sent to this file, to trust it with -ca")
	timeout := fs.Duration("timeout", roster.DefaultConnectTimeout, "time allowed to connect and finish the TLS handshake")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	target, err := parseOneArg(fs, args, "the directory's address, such as ldaps://20.54.1.9:636")
	if err != nil {
		return err
	}
	src := &roster.Source{Type: roster.GenericLDAP, Address: target, Domain: *domain, ConnectTimeout: *timeout,
		Trust: roster.Trust{ServerName: *serverName, PinSHA256: *pin}}
	switch {
	case *startTLS && strings.HasPrefix(strings.ToLower(target), "ldaps://"):
		return usageErrorf("-starttls goes with an ldap:// address; %s is already LDAPS", target)
	case *startTLS:
		src.TLSMode = roster.StartTLS
	case strings.HasPrefix(strings.ToLower(target), "ldap://"):
		return usageErrorf("%s is plain LDAP; add -starttls to upgrade it, or use ldaps://", target)
	default:
		src.TLSMode = roster.LDAPS
	}
	if *domain != "" && !roster.ValidDomain(*domain) {
		return usageErrorf("-domain %q is not a DNS name such as aaddscontoso.com", *domain)
	}
	if *caFile != "" {
		b, err := readCAFile(*caFile)
		if err != nil {
			return err
		}
		src.Trust.CAPEM = b
	}
	if *saveCer != "" {
		if _, err := os.Stat(*saveCer); err == nil {
			return usageErrorf("%s already exists; give -save-cer a new file name", *saveCer)
		}
	}
	url, err := src.URL()
	if err != nil {
		return usageErrorf("%s", roster.ErrorMessage(err))
	}
	res, err := ldap.Dialer{Now: a.now}.Probe(ctx, src)
	if err != nil {
		return err
	}
	r := &probeReport{URL: url, ServerName: res.ServerName, TLSVersion: tls.VersionName(res.TLSVersion), CAFile: *caFile,
		Trusted: res.Problem == nil, TrustedBy: res.Verified,
		Check: pfx.CheckChain(res.Chain, pfx.Options{Domain: *domain, Now: a.now()})}
	if res.Problem != nil {
		r.Problem = roster.ErrorMessage(res.Problem)
	}
	if *saveCer != "" && len(res.Chain) > 0 {
		top := res.Chain[len(res.Chain)-1]
		if err := writeFileAtomic(*saveCer, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: top.Raw}), 0o644, false); err != nil {
			return err
		}
		r.SavedCer = *saveCer
	}
	// An expired certificate fails a rule of the check already.
	if c := r.Check.Certificate; c != nil && c.NotAfter.After(a.now()) {
		if w := roster.DirectoryCertificateWarning(src.Type, c.NotAfter, a.now()); w != "" {
			r.Warnings = append(r.Warnings, w)
		}
	}
	if *asJSON {
		if err := printJSON(a, r); err != nil {
			return err
		}
	} else {
		printProbe(a, r, res)
	}
	if !r.Trusted || r.Check.Failed() {
		return errRulesFailed
	}
	return nil
}

func printProbe(a *app, r *probeReport, res *ldap.ProbeResult) {
	w := a.stdout
	fmt.Fprintf(w, "%s: %s, certificate checked for the name %s\n", r.URL, r.TLSVersion, r.ServerName)
	for i, c := range res.Chain {
		fmt.Fprintf(w, "certificate %d of %d\n", i+1, len(res.Chain))
		printSummary(a, "  ", pfx.Summarize(c, a.now()))
	}
	switch r.TrustedBy {
	case "chain":
		anchors := "this machine's system roots"
		if r.CAFile != "" {
			anchors = "the CA file " + r.CAFile
		}
		fmt.Fprintf(w, "trust: TRUSTED, the chain verifies against %s and the name matches\n", anchors)
	case "pin":
		fmt.Fprintln(w, "trust: TRUSTED, the certificate matches the pinned SHA-256 fingerprint")
	case "none":
		fmt.Fprintln(w, "trust: NOT CHECKED (verification is off)")
	default:
		fmt.Fprintf(w, "trust: NOT TRUSTED: %s\n", r.Problem)
		var hostname x509.HostnameError
		if errors.As(res.Problem, &hostname) {
			// Trusting or pinning would hide a wrong name, not fix it.
			fmt.Fprintln(w, "  to fix it, check the name: give -domain (for ldaps.<domain>) or -server-name with a name the certificate carries")
		} else if len(res.Chain) > 0 {
			fmt.Fprintln(w, "  to trust it, do one of these:")
			cer := "<file>"
			if r.SavedCer != "" {
				cer = r.SavedCer
				fmt.Fprintf(w, "  - the certificate is saved in %s; give it to roster with -ca %s, or import it into the clients' Trusted Root Certification Authorities\n", cer, cer)
			} else {
				fmt.Fprintln(w, "  - save the certificate with -save-cer FILE, check it is the one your directory should have, then give roster -ca FILE")
			}
			fmt.Fprintf(w, "  - or pin this exact certificate: -pin-sha256 %s\n", pfx.Fingerprint(res.Chain[0]))
		}
	}
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "WARNING:", warning)
	}
	fmt.Fprintf(w, "rules (managed domain %s):\n", orUnknown(r.Check.Domain))
	printResults(a, r.Check)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
