package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
	"github.com/rosterhq/roster/ldap"
)

// connectReport is what roster connect found, for people and for -json:
// the directory's survey and how long it took.
type connectReport struct {
	ldap.Survey
	Seconds float64 `json:"seconds"`
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
	if src.Type == roster.EntraID {
		return connectGraph(ctx, a, src, start, *asJSON)
	}
	r, err := connect(ctx, a, src)
	if err != nil {
		return err
	}
	r.Seconds = a.now().Sub(start).Seconds()
	if *asJSON {
		return printJSON(a, r)
	}
	printConnectReport(a, r)
	return nil
}

// connect surveys the source's directory (see ldap.Dialer.Survey): the
// TLS session, the sign-in, and the users and disabled users under each
// base DN, counted as a sync counts them.
func connect(ctx context.Context, a *app, src *roster.Source) (*connectReport, error) {
	s, err := ldap.Dialer{Now: a.now}.Survey(ctx, src, a.log)
	if err != nil {
		return nil, err
	}
	return &connectReport{Survey: *s}, nil
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

// connectGraph tests an Entra ID source: a token for its app, then its
// users, counted as a sync reads them.
func connectGraph(ctx context.Context, a *app, src *roster.Source, start time.Time, asJSON bool) error {
	d, err := graph.Open(src)
	if err != nil {
		return usage(err)
	}
	s, err := d.Survey(ctx)
	if err != nil {
		return err
	}
	r := struct {
		*graph.Survey
		Seconds float64 `json:"seconds"`
	}{s, a.now().Sub(start).Seconds()}
	if asJSON {
		return printJSON(a, r)
	}
	w := a.stdout
	fmt.Fprintf(w, "Entra ID (Microsoft Graph) at %s\n", s.Graph)
	fmt.Fprintf(w, "  signed in   as app %s in tenant %s (a token came)\n", s.ClientID, s.Tenant)
	fmt.Fprintf(w, "  users       %d (%d pages)\n", s.Users, s.Pages)
	fmt.Fprintf(w, "  disabled    %d of %d\n", s.Disabled, s.Users)
	fmt.Fprintf(w, "  took        %.2fs\n", r.Seconds)
	return nil
}
