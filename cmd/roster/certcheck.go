package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/rosterhq/roster/pfx"
)

// errRulesFailed makes a check exit with status 1 after its report.
var errRulesFailed = errors.New("a rule failed")

func runCertCheck(_ context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "cert check", "FILE [-domain DOMAIN] [-password-file FILE] [-json]")
	domain := fs.String("domain", "", "the Entra DS managed domain the certificate is for (default: taken from the certificate)")
	pwFile := fs.String("password-file", "", "file holding the PFX password (default: $ROSTER_PFX_PASSWORD)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	file, err := parseOneArg(fs, args, "the .pfx, .p12, .cer or .pem file to check")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return usageErrorf("cannot read %s: %v", file, err)
	}
	pw, err := pfxPassword(a, *pwFile)
	if err != nil {
		return err
	}
	r := pfx.CheckFile(data, pfx.Options{Domain: *domain, Password: pw, Now: a.now()})
	if *asJSON {
		if err := printJSON(a, struct {
			File string `json:"file"`
			*pfx.Report
		}{file, r}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "%s: %s", file, r.Kind)
		if r.Domain != "" {
			from := "as given"
			if r.DomainSource == "certificate" {
				from = "from the certificate"
			}
			fmt.Fprintf(a.stdout, " for managed domain %s (%s)", r.Domain, from)
		}
		fmt.Fprintln(a.stdout)
		if r.Certificate != nil {
			printSummary(a, "  ", r.Certificate)
		}
		printResults(a, r)
	}
	if r.Failed() {
		return errRulesFailed
	}
	return nil
}

// parseOneArg parses flags around exactly one positional argument, which
// may come before or after the flags.
func parseOneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var pos []string
	rest := args
	for {
		if err := parseFlags(fs, rest); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", usageErrorf("give exactly one argument: %s", what)
	}
	return pos[0], nil
}
