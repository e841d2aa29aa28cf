// Command labgen writes the LDIF files that lab/lab loads into Samba AD and
// OpenLDAP. Passwords come from the environment (LAB_BIND_PASSWORD,
// LAB_TEST_PASSWORD, LAB_ADMIN_PASSWORD), never from arguments, so that
// they do not show in the process list.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster/lab/labdata"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "labgen:", err)
		os.Exit(1)
	}
}

func run() error {
	seed := flag.Uint64("seed", 1, "random seed; the same seed and counts give the same data")
	users := flag.Int("users", 2000, "generated users in OpenLDAP")
	adUsers := flag.Int("ad-users", 2000, "generated users in Samba AD (at most users)")
	out := flag.String("out", ".", "folder for the LDIF files")
	uuids := flag.String("uuids", "slapd", "OpenLDAP's entryUUIDs: slapd (its own, time-based) or random")
	flag.Parse()
	if *adUsers > *users {
		return fmt.Errorf("-ad-users (%d) cannot exceed -users (%d)", *adUsers, *users)
	}
	if *uuids != "slapd" && *uuids != "random" {
		return fmt.Errorf("-uuids is slapd or random, not %q", *uuids)
	}
	pw := labdata.Passwords{
		Service: os.Getenv("LAB_BIND_PASSWORD"),
		Test:    os.Getenv("LAB_TEST_PASSWORD"),
		Admin:   os.Getenv("LAB_ADMIN_PASSWORD"),
	}
	if pw.Service == "" || pw.Test == "" {
		return fmt.Errorf("LAB_BIND_PASSWORD and LAB_TEST_PASSWORD must be set")
	}

	adData, err := labdata.Generate(*seed, *adUsers)
	if err != nil {
		return err
	}
	ldapData, err := labdata.Generate(*seed, *users)
	if err != nil {
		return err
	}
	ad := labdata.AD{BaseDN: "DC=corp,DC=test", Domain: "corp.test", UsersOU: "OU=AADDC Users,DC=corp,DC=test"}
	ol := labdata.OpenLDAP{BaseDN: "dc=example,dc=test", Domain: "example.test", RandomUUIDs: *uuids == "random", Seed: *seed}

	files := []struct {
		name  string
		write func(*os.File) error
	}{
		{"ad.ldif", func(f *os.File) error { return adData.WriteAD(f, ad, pw) }},
		{"ad-nesting.ldif", func(f *os.File) error { return adData.WriteADNesting(f, ad, pw.Admin != "") }},
		{"openldap.ldif", func(f *os.File) error { return ldapData.WriteOpenLDAP(f, ol, pw) }},
		{"manifest.json", func(f *os.File) error {
			enc := json.NewEncoder(f)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{
				"seed":            *seed,
				"ad_users":        len(adData.Users),
				"ad_groups":       len(adData.Groups),
				"ad_disabled":     len(adData.DisabledLogins()),
				"openldap_users":  len(ldapData.Users),
				"openldap_groups": len(ldapData.Groups),
			})
		}},
	}
	for _, f := range files {
		// 0600: the LDIF carries password hashes and unicodePwd values.
		fh, err := os.OpenFile(filepath.Join(*out, f.name), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if err := f.write(fh); err != nil {
			fh.Close()
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return nil
}
