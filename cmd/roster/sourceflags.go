package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// sourceFlags are the flags that describe a directory source, shared by
// every command that talks to one. They follow the founding article's
// form: type, address, SSL mode, domain, login, password.
type sourceFlags struct {
	typ, address, tlsMode, domain, login  string
	passwordFile, caFile, pin, serverName string
	filter                                string
	baseDNs                               listFlag
	graph                                 roster.GraphApp
	allowInsecure, skipVerify             bool
	connectTimeout, requestTimeout        time.Duration
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func (f *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.typ, "type", "ad", "directory type: ad, entra-ds, openldap, ldap, or entra-id (Entra ID through Microsoft Graph)")
	fs.StringVar(&f.address, "address", "", "the directory's IP address or host name, optionally with :port (or an ldaps:// URL)")
	fs.StringVar(&f.tlsMode, "tls", "ldaps", "SSL mode: ldaps (port 636) or starttls (port 389); none needs -allow-insecure")
	fs.StringVar(&f.domain, "domain", "", "the DNS domain, such as corp.test; gives the base DN and completes a bare login")
	fs.Var(&f.baseDNs, "base-dn", "a base DN to search (repeat for several); default: derived from -domain")
	fs.StringVar(&f.login, "login", "", "the account to sign in with: user@domain, DOMAIN\\user, user, or a DN")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the account's password, or an entra-id app's client secret (default: $ROSTER_BIND_PASSWORD)")
	fs.StringVar(&f.graph.TenantID, "tenant", "", "entra-id: the Directory (tenant) ID")
	fs.StringVar(&f.graph.ClientID, "client-id", "", "entra-id: the Application (client) ID of the app registration")
	fs.StringVar(&f.graph.Cloud, "cloud", "", "entra-id: global (default), usgov, usdod or china")
	fs.StringVar(&f.graph.CertFile, "cert", "", "entra-id: the app's certificate, PEM (roster cert new -for graph); preferred to a client secret")
	fs.StringVar(&f.graph.KeyFile, "key", "", "entra-id: the app's RSA key, PEM, unencrypted")
	fs.StringVar(&f.graph.AuthorityHost, "authority-host", "", "entra-id: replaces the cloud's token host (https://...), with -graph-host")
	fs.StringVar(&f.graph.GraphHost, "graph-host", "", "entra-id: replaces the cloud's Graph host (https://...), with -authority-host")
	fs.StringVar(&f.caFile, "ca", "", "trust only this CA certificate or the directory's exported .cer (PEM or DER), instead of the system roots")
	fs.StringVar(&f.pin, "pin-sha256", "", "accept exactly the server certificate with this SHA-256 fingerprint")
	fs.StringVar(&f.serverName, "server-name", "", "the name the certificate must carry (default: the host, or ldaps.<domain> for an IP)")
	fs.BoolVar(&f.allowInsecure, "allow-insecure", false, "allow -tls none: the password crosses the network in clear")
	fs.BoolVar(&f.skipVerify, "insecure-skip-verify", false, "do not check the server certificate at all (diagnosis only)")
	fs.StringVar(&f.filter, "filter", "", "an extra LDAP filter for users, such as (department=Sales)")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", roster.DefaultConnectTimeout, "time allowed to connect, set up TLS and sign in")
	fs.DurationVar(&f.requestTimeout, "timeout", roster.DefaultRequestTimeout, "time allowed for each search page")
}

// settings are the flags as roster's written format for a source: the
// command line maps onto the same settings as a configuration file and
// the API, and is normalised by the same code (SourceSettings.Source).
func (f *sourceFlags) settings() roster.SourceSettings {
	tls := f.tlsMode
	if strings.EqualFold(f.typ, string(roster.EntraID)) {
		tls = "" // Graph is HTTPS, always
	}
	return roster.SourceSettings{
		Type: f.typ, Address: f.address, TLS: tls, AllowInsecure: f.allowInsecure,
		Domain: f.domain, BaseDNs: f.baseDNs, Login: f.login, UserFilter: f.filter, Graph: f.graph,
		PinSHA256: f.pin, ServerName: f.serverName, InsecureSkipVerify: f.skipVerify,
		ConnectTimeout: roster.Duration(f.connectTimeout), Timeout: roster.Duration(f.requestTimeout),
	}
}

// source builds and validates the source the flags describe.
func (f *sourceFlags) source(a *app) (*roster.Source, error) {
	return f.sourceWith(a, f.settings())
}

// sourceWith builds and validates the source of settings s (the flags'
// settings, which a command may complete). The password comes from
// -password-file or $ROSTER_BIND_PASSWORD; there is no password flag, as
// a command line is visible to every user of the machine.
func (f *sourceFlags) sourceWith(a *app, s roster.SourceSettings) (*roster.Source, error) {
	src, err := s.Source()
	if err != nil {
		return nil, usageErrorf("%s", roster.ErrorMessage(err))
	}
	switch {
	case f.passwordFile != "":
		pw, err := readSecretFile(a, f.passwordFile)
		if err != nil {
			return nil, err
		}
		src.Password = pw
	case a.getenv("ROSTER_BIND_PASSWORD") != "":
		src.Password = roster.Secret(a.getenv("ROSTER_BIND_PASSWORD"))
	}
	if f.caFile != "" {
		b, err := readCAFile(f.caFile)
		if err != nil {
			return nil, err
		}
		src.Trust.CAPEM = b
	}
	switch {
	case src.Type == roster.EntraID:
		// The app registration's settings are checked by Validate.
	case f.address == "":
		return nil, usageErrorf("-address is required: the directory's IP address or host name")
	case f.login == "":
		return nil, usageErrorf("-login is required: any ordinary account of the directory will do")
	case !src.Password.IsSet():
		return nil, usageErrorf("no password: give -password-file FILE or set ROSTER_BIND_PASSWORD")
	}
	if err := src.Validate(); err != nil {
		return nil, usageErrorf("%s", roster.ErrorMessage(err))
	}
	// On the terminal at once; the log has them from each sync's start
	// (runner.Sync), and roster connect's report lists them too.
	for _, w := range src.Warnings() {
		fmt.Fprintln(a.stderr, "WARNING:", w)
	}
	return src, nil
}
