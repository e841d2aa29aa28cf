package graph

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// Open makes the Directory of an entra-id source: its cloud or hosts,
// its certificate and key read from their files (or its client secret),
// and an HTTP client that verifies TLS against the system's roots, plus
// the source's CA when it gives one (a proxy that inspects TLS, or the
// lab's double). No request is sent yet.
//
// Errors: EINVALID, naming the file or setting to fix.
func Open(src *roster.Source) (*Directory, error) {
	if src.Type != roster.EntraID {
		return nil, roster.Errorf(roster.EINVALID, "the source %s is not an Entra ID source", src.Name)
	}
	g := src.Graph
	cfg := Config{TenantID: g.TenantID, ClientID: g.ClientID, Secret: src.Password, Cloud: Global}
	if c, ok := Clouds[strings.ToLower(g.Cloud)]; ok {
		cfg.Cloud = c
	}
	if g.AuthorityHost != "" {
		cfg.Cloud = Cloud{AuthorityHost: strings.TrimSuffix(g.AuthorityHost, "/"), GraphHost: strings.TrimSuffix(g.GraphHost, "/")}
	}
	if g.CertFile != "" {
		var err error
		if cfg.Certs, cfg.Key, err = readCredential(g.CertFile, g.KeyFile); err != nil {
			return nil, err
		}
		cfg.Secret = ""
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if len(src.Trust.CAPEM) > 0 && !roots.AppendCertsFromPEM(src.Trust.CAPEM) {
		return nil, roster.Errorf(roster.EINVALID, "the source's CA certificate holds no PEM certificate")
	}
	timeout := src.RequestTimeout
	if timeout <= 0 {
		timeout = 100 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	cfg.HTTP = &http.Client{Transport: tr, Timeout: timeout,
		// A redirect would carry the token elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &Directory{Client: c, Mapping: src.Mapping.WithDefaults(roster.EntraID)}, nil
}

// readCredential reads the app's certificate (the first one in the file
// names the credential) and its RSA key from PEM files.
func readCredential(certFile, keyFile string) ([]*x509.Certificate, any, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, roster.Errorf(roster.EINVALID, "cannot read the app's certificate: %v", err)
	}
	certs, err := pfx.ParseCertificates(b)
	if err != nil {
		return nil, nil, roster.Errorf(roster.EINVALID, "the app's certificate %s: %s; give the .cer roster cert new -for graph wrote", certFile, roster.ErrorMessage(err))
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, roster.Errorf(roster.EINVALID, "cannot read the app's key: %v", err)
	}
	block, _ := pem.Decode(kb)
	if block == nil {
		return nil, nil, roster.Errorf(roster.EINVALID, "%s holds no PEM key", keyFile)
	}
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, nil, roster.Errorf(roster.EINVALID, "the key %s is encrypted; roster needs it unencrypted, readable by roster alone (chmod 600)", keyFile)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, nil, roster.Errorf(roster.EINVALID, "the key %s cannot be read: %v", keyFile, fmt.Sprint(err))
	}
	return certs, key, nil
}
