package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// certCommands are the subcommands of roster cert.
func certCommands() []command {
	return []command{
		{"new", "make a self-signed secure LDAP certificate for Entra Domain Services: a TripleDES-SHA1 .pfx and its .cer", runCertNew},
		{"check", "check a .pfx/.p12 or .cer/.pem against every Entra DS certificate rule", runCertCheck},
		{"probe", "fetch and check the certificate a directory presents on LDAPS or StartTLS", runCertProbe},
	}
}

func runCert(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(a.stderr, "Usage: roster cert COMMAND [flags]")
		fmt.Fprintln(a.stderr)
		for _, c := range certCommands() {
			fmt.Fprintf(a.stderr, "  %-6s %s\n", c.name, c.summary)
		}
		if len(args) == 0 {
			return usageErrorf("name a cert command: new, check or probe")
		}
		return nil
	}
	for _, c := range certCommands() {
		if c.name == args[0] {
			return c.run(ctx, a, args[1:])
		}
	}
	return usageErrorf("no cert command %q; use new, check or probe", args[0])
}

// pfxPassword reads a PFX password from a file or $ROSTER_PFX_PASSWORD.
// It returns "" when neither is given.
func pfxPassword(a *app, file string) (roster.Secret, error) {
	if file != "" {
		return readSecretFile(a, file)
	}
	return roster.Secret(a.getenv("ROSTER_PFX_PASSWORD")), nil
}

// readSecretFile reads a password from a file: the first line, without
// its line ending or a byte-order mark (Notepad writes one). An empty file
// is a usage error, never "no password".
func readSecretFile(a *app, file string) (roster.Secret, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usageErrorf("cannot read the password file: %v", err)
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		a.log.Warn("the password file can be read by other users; chmod 600 it", "file", file)
	}
	s := strings.TrimPrefix(string(b), "\ufeff")
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimRight(s, "\r")
	if s == "" {
		return "", usageErrorf("the password file %s is empty", file)
	}
	return roster.Secret(s), nil
}

// readCAFile reads certificates to trust, and refuses a file that holds
// none, naming it.
func readCAFile(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErrorf("cannot read the CA file: %v", err)
	}
	if _, err := pfx.ParseCertificates(b); err != nil {
		return nil, usageErrorf("the CA file %s: %s", file, roster.ErrorMessage(err))
	}
	return b, nil
}

// printResults prints a check report, one line a rule, fixes beneath.
func printResults(a *app, r *pfx.Report) {
	for _, res := range r.Results {
		fmt.Fprintf(a.stdout, "  %-4s %s %s: %s\n", strings.ToUpper(string(res.Status)), res.Rule, res.Title, res.Message)
		if res.Fix != "" && (res.Status == pfx.Fail || res.Status == pfx.Warn) {
			fmt.Fprintf(a.stdout, "       fix: %s\n", res.Fix)
		}
	}
	fmt.Fprintf(a.stdout, "Result: %d failed, %d warnings, %d passed, %d not checked\n",
		r.Count(pfx.Fail), r.Count(pfx.Warn), r.Count(pfx.Pass), r.Count(pfx.Skip))
}

func printSummary(a *app, indent string, s *pfx.Summary) {
	w := a.stdout
	fmt.Fprintf(w, "%ssubject     %s\n", indent, s.Subject)
	if len(s.SANs) > 0 {
		fmt.Fprintf(w, "%sDNS names   %s\n", indent, strings.Join(s.SANs, ", "))
	}
	fmt.Fprintf(w, "%sissuer      %s\n", indent, s.Issuer)
	fmt.Fprintf(w, "%skey         %s, signed with %s\n", indent, s.Key, s.Signature)
	left := fmt.Sprintf("%d days left", s.DaysLeft)
	if s.DaysLeft < 0 {
		left = fmt.Sprintf("expired %d days ago", -s.DaysLeft)
	}
	fmt.Fprintf(w, "%svalid       %s to %s (%s)\n", indent, s.NotBefore.Format("2006-01-02"), s.NotAfter.Format("2006-01-02"), left)
	fmt.Fprintf(w, "%sSHA-256     %s\n", indent, s.SHA256)
	fmt.Fprintf(w, "%sSHA-1       %s (thumbprint, as Azure shows it)\n", indent, s.SHA1)
}
