package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
)

// connectReport is what roster connect found, for people and for -json.
type connectReport struct {
	Type        roster.DirectoryType `json:"type"`
	URL         string               `json:"url"`
	TLSVersion  string               `json:"tls_version,omitempty"`
	Verified    string               `json:"certificate_verified_by"` // chain, pin or none
	Certificate *pfx.Summary         `json:"certificate,omitempty"`
	Login       string               `json:"login"`
	Directory   string               `json:"directory"`
	Host        string               `json:"directory_host,omitempty"`
	Bases       []baseCount          `json:"bases"`
	Users       int                  `json:"users"`
	Disabled    *int                 `json:"disabled_users,omitempty"` // AD only
	Warnings    []string             `json:"warnings,omitempty"`
	Seconds     float64              `json:"seconds"`
}

type baseCount struct {
	DN    string `json:"dn"`
	Users int    `json:"users"`
	Pages int    `json:"pages"`
}

func runConnect(ctx context.Context, a *app, args []string) error {
	var sf sourceFlags
	fs := newFlagSet(a, "connect", "-address HOST -domain DOMAIN -login USER -password-file FILE [flags]")
	sf.register(fs)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	src, err := sf.source(a)
	if err != nil {
		return err
	}
	start := a.now()
	r, err := connect(ctx, a, src)
	if err != nil {
		return err
	}
	r.Seconds = a.now().Sub(start).Seconds()
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printConnectReport(a, r)
	return nil
}

// connect dials, binds, reads the rootDSE and counts the users under each
// base DN with a paged search that fetches no attributes but the one that
// says whether an AD account is disabled.
func connect(ctx context.Context, a *app, src *roster.Source) (*connectReport, error) {
	url, _ := src.URL()
	r := &connectReport{Type: src.Type, URL: url, Warnings: src.Warnings()}
	c, err := ldap.Dialer{Now: a.now}.Dial(ctx, src)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r.Verified = c.Verified()
	if st := c.TLS(); st != nil {
		r.TLSVersion = tls.VersionName(st.Version)
		if len(st.PeerCertificates) > 0 {
			r.Certificate = pfx.Summarize(st.PeerCertificates[0], a.now())
			if r.Certificate.DaysLeft < 30 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("the directory's certificate expires in %d days, on %s; renew it (Entra DS: Secure LDAP, then Change certificate)",
					r.Certificate.DaysLeft, r.Certificate.NotAfter.Format("2006-01-02")))
			}
		}
	}
	if err := c.Bind(ctx); err != nil {
		return nil, err
	}
	r.Login, _ = src.BindName()
	a.log.Info("signed in", "url", url, "login", r.Login, "verified", r.Verified)

	dse, err := c.RootDSE(ctx)
	if err != nil {
		return nil, err
	}
	r.Directory, r.Host = dse.Vendor, dse.DNSHostName
	if src.Type.IsAD() != dse.IsAD {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the source is set up as %s but the server says it is %s; pick the matching directory type", src.Type, dse.Vendor))
	}

	attrs := []string{"1.1"}
	if dse.IsAD {
		attrs = []string{"userAccountControl"}
		r.Disabled = new(int)
	}
	// Overlapping bases (one inside another) count an entry under each,
	// but once in the total, as a sync reads it once.
	counted := map[string]bool{}
	for _, base := range src.SearchBases() {
		bc := baseCount{DN: base}
		st, err := c.Search(ctx, ldap.SearchRequest{
			BaseDN: base, Scope: ldap.ScopeSubtree, Filter: ldap.UserFilter(src.Type, src.UserFilter), Attributes: attrs,
		}, func(e *ldap.Entry) error {
			bc.Users++
			k := roster.DNKey(e.DN)
			if counted[k] {
				return nil
			}
			counted[k] = true
			r.Users++
			if r.Disabled != nil {
				if uac, err := strconv.Atoi(e.Value("userAccountControl")); err == nil && uac&ldap.UACDisabled != 0 {
					*r.Disabled++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		bc.Pages = st.Pages
		r.Bases = append(r.Bases, bc)
	}
	if r.Users == 0 {
		r.Warnings = append(r.Warnings, "no users found: check the base DN and the filter, and that the account may read the users (a bind that may not read sees nothing and gets no error)")
	}
	return r, nil
}

func printConnectReport(a *app, r *connectReport) {
	w := a.stdout
	fmt.Fprintf(w, "%s at %s\n", r.Type.Label(), r.URL)
	switch r.Verified {
	case "chain":
		fmt.Fprintf(w, "  tls         %s, certificate verified against the trusted CAs\n", r.TLSVersion)
	case "pin":
		fmt.Fprintf(w, "  tls         %s, certificate matches the pinned SHA-256 fingerprint\n", r.TLSVersion)
	default:
		if r.TLSVersion != "" {
			fmt.Fprintf(w, "  tls         %s, certificate NOT verified\n", r.TLSVersion)
		} else {
			fmt.Fprintf(w, "  tls         none: plain LDAP\n")
		}
	}
	if c := r.Certificate; c != nil {
		fmt.Fprintf(w, "  certificate %s (SANs %s)\n", c.Subject, strings.Join(c.SANs, ", "))
		fmt.Fprintf(w, "              issued by %s\n", c.Issuer)
		fmt.Fprintf(w, "              valid until %s (%d days left)\n", c.NotAfter.Format("2006-01-02"), c.DaysLeft)
		fmt.Fprintf(w, "              SHA-256 %s\n", c.SHA256)
	}
	fmt.Fprintf(w, "  signed in   as %s\n", r.Login)
	dir := r.Directory
	if r.Host != "" {
		dir += " (" + r.Host + ")"
	}
	fmt.Fprintf(w, "  directory   %s\n", dir)
	for _, b := range r.Bases {
		fmt.Fprintf(w, "  users       %d under %s (%d pages)\n", b.Users, b.DN, b.Pages)
	}
	if r.Disabled != nil {
		fmt.Fprintf(w, "  disabled    %d of %d\n", *r.Disabled, r.Users)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  WARNING     %s\n", warn)
	}
	fmt.Fprintf(w, "  took        %.2fs\n", r.Seconds)
}
