package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/pfx"
)

func runCertNew(_ context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "cert new", "-domain DOMAIN [-days 365] [-key-size 2048] [-out DIR] [-password-file FILE] | -for graph [-name roster-print]")
	domain := fs.String("domain", "", "the Entra DS managed domain, such as aaddscontoso.com (required)")
	forWhat := fs.String("for", "entra-ds", "entra-ds: the secure LDAP certificate of a managed domain; graph: an Entra ID app registration's certificate credential")
	appName := fs.String("name", "roster-print", "with -for graph: the certificate's name, as the app registration will show it")
	days := fs.Int("days", pfx.DefaultDays, fmt.Sprintf("validity in days, from %d to %d", pfx.MinDays, pfx.MaxDays))
	keySize := fs.Int("key-size", 2048, "RSA key size: 2048, 3072 or 4096")
	out := fs.String("out", ".", "folder for the .pfx and .cer files")
	pwFile := fs.String("password-file", "", "file holding the PFX password (default: $ROSTER_PFX_PASSWORD, else roster makes one and shows it once)")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *forWhat {
	case "graph":
		return certNewApp(a, *appName, *days, *keySize, *out, *force)
	case "entra-ds":
	default:
		return usageErrorf("-for %q is not entra-ds or graph", *forWhat)
	}
	if *domain == "" {
		return usageErrorf("-domain is required: the managed domain's DNS name, such as aaddscontoso.com")
	}
	pw, err := pfxPassword(a, *pwFile)
	if err != nil {
		return err
	}
	generated := !pw.IsSet()
	if generated {
		if pw, err = pfx.GeneratePassword(nil); err != nil {
			return err
		}
	}
	now := a.now()
	b, err := pfx.New(pfx.NewOptions{Domain: *domain, Days: *days, KeySize: *keySize, Now: now})
	if err != nil {
		if roster.ErrorCode(err) == roster.EINVALID {
			return usageErrorf("%s", roster.ErrorMessage(err))
		}
		return err
	}
	der, err := b.PFX(pw)
	if err != nil {
		return usageErrorf("%s", roster.ErrorMessage(err))
	}
	name := b.Cert.DNSNames[1] // the bare domain, as New normalised it
	pfxPath := filepath.Join(*out, name+".pfx")
	cerPath := filepath.Join(*out, name+".cer")
	if !*force {
		for _, p := range []string{pfxPath, cerPath} {
			if _, err := os.Stat(p); err == nil {
				return usageErrorf("%s already exists; move it away or use -force (an uploaded certificate's key cannot be made again)", p)
			}
		}
	}
	// The .pfx holds the key: 0600. The .cer is public. Without -force the
	// writes refuse to replace a file that appeared since the check above.
	if err := writeFileAtomic(pfxPath, der, 0o600, *force); err != nil {
		return err
	}
	if err := writeFileAtomic(cerPath, b.CertPEM(), 0o644, *force); err != nil {
		return err
	}
	// Check what was written, with the same rules an upload must pass.
	written, err := os.ReadFile(pfxPath)
	if err != nil {
		return err
	}
	report := pfx.CheckFile(written, pfx.Options{Domain: name, Password: pw, Now: now})
	a.log.Info("made a secure LDAP certificate", "domain", name, "pfx", pfxPath, "thumbprint", pfx.Thumbprint(b.Cert))

	w := a.stdout
	s := pfx.Summarize(b.Cert, now)
	fmt.Fprintf(w, "Made a secure LDAP certificate for *.%s\n", name)
	fmt.Fprintf(w, "  PFX         %s (TripleDES-SHA1, mode 0600): upload this to Entra DS\n", pfxPath)
	fmt.Fprintf(w, "  .cer        %s: the public certificate clients trust\n", cerPath)
	printSummary(a, "  ", s)
	if generated {
		fmt.Fprintf(w, "  password    %s\n", pw.Reveal())
		fmt.Fprintln(w, "              shown this once; roster keeps no copy. Store it in your password manager now.")
	} else {
		fmt.Fprintln(w, "  password    the one you gave")
	}
	fmt.Fprintf(w, "  check       %d of %d rules pass, %d fail\n", report.Count(pfx.Pass), len(report.Results), report.Count(pfx.Fail))
	fmt.Fprintf(w, `
Next steps
  1. Upload: Azure portal, Microsoft Entra Domain Services, your managed domain %[1]s,
     Secure LDAP: turn on "Secure LDAP" (and "Allow secure LDAP access over the internet"
     if print servers reach it from outside), choose %[2]s, enter its password, Save.
     Enabling takes a few minutes. Or with the Azure CLI:
       az ad ds update --name %[1]s --resource-group <resource group> \
         --ldaps Enabled --external-access Enabled --pfx-cert %[2]s --pfx-cert-pwd @<password file>
     (the Azure CLI reads a value given as @file from that file, keeping the password
     off the command line)
  2. Compare: the portal's certificate thumbprint must read %[3]s.
  3. Restrict port 636: in the managed domain's network security group, add an inbound rule
     allowing TCP 636 only from your print servers' addresses (for example priority 401,
     name AllowLDAPS). Without it Azure raises alert AADDS101 and 636 is open to the internet.
  4. Connect: Properties shows the "Secure LDAP external IP address". With roster:
       roster connect -type entra-ds -address <that IP> -domain %[1]s -login <any user> \
         -password-file <file> -ca %[4]s
     The certificate is checked for ldaps.%[1]s, which *.%[1]s covers.
  5. Renew before %[5]s: run roster cert new again and use Secure LDAP, Change certificate.
`, name, pfxPath, s.SHA1, cerPath, s.NotAfter.Format("2006-01-02"))
	if report.Failed() {
		printResults(a, report)
		return fmt.Errorf("the certificate roster made fails a rule; this is a bug in roster")
	}
	return nil
}

// certNewApp makes an Entra ID app registration's certificate
// credential: NAME.cer, the public certificate to upload to the app, and
// NAME.key, the key roster signs its token requests with (0600), and
// prints the portal's steps.
func certNewApp(a *app, name string, days, keySize int, out string, force bool) error {
	b, err := pfx.NewApp(pfx.AppOptions{Name: name, Days: days, KeySize: keySize, Now: a.now()})
	if err != nil {
		return usage(err)
	}
	keyPEM, err := b.KeyPEM()
	if err != nil {
		return err
	}
	base := filepath.Join(out, filepath.Base(strings.ReplaceAll(name, " ", "-")))
	cerPath, keyPath := base+".cer", base+".key"
	if !force {
		for _, p := range []string{cerPath, keyPath} {
			if _, err := os.Stat(p); err == nil {
				return usageErrorf("%s already exists; move it away or use -force (an uploaded certificate's key cannot be made again)", p)
			}
		}
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600, force); err != nil {
		return err
	}
	if err := writeFileAtomic(cerPath, b.CertPEM(), 0o644, force); err != nil {
		return err
	}
	s := pfx.Summarize(b.Cert, a.now())
	a.log.Info("made an app certificate for Microsoft Graph", "name", name, "cer", cerPath, "thumbprint", s.SHA1)
	fmt.Fprintf(a.stdout, `Made a certificate credential for an Entra ID app registration
  .cer        %[1]s: upload this to the app (public)
  key         %[2]s (mode 0600): roster signs its token requests with it; it never leaves this machine
  thumbprint  %[3]s
  expires     %[4]s

Next steps
  1. Register an app: Entra admin center, App registrations, New registration
     (single tenant, no redirect URI). Note its Application (client) ID and
     Directory (tenant) ID.
  2. Upload: the app, Certificates & secrets, Certificates, Upload certificate:
     %[1]s. The portal's thumbprint must read %[3]s.
  3. Permissions: API permissions, Add a permission, Microsoft Graph,
     Application permissions: User.Read.All and GroupMember.Read.All.
     Then "Grant admin consent". Without consent no permission is in the token.
  4. Sync:
       roster sync -type entra-id -name <name> -tenant <tenant ID> -client-id <client ID> \
         -cert %[1]s -key %[2]s
  5. Renew before %[4]s: make a new certificate, upload it beside the old one,
     switch roster to it, then delete the old one from the app.
`, cerPath, keyPath, s.SHA1, s.NotAfter.Format("2006-01-02"))
	return nil
}

// writeFileAtomic writes a file whole or not at all (datadir.WriteFile);
// a file that exists, when replace is not set, is the admin's to move:
// a usage error.
func writeFileAtomic(path string, data []byte, mode os.FileMode, replace bool) error {
	err := datadir.WriteFile(path, data, mode, replace)
	if errors.Is(err, fs.ErrExist) {
		return usageErrorf("%s already exists; not replacing it", path)
	}
	return err
}
