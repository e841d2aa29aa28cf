package graph

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/rosterhq/roster"
)

// Config is an app registration and where its tenant lives.
type Config struct {
	TenantID string // the directory (tenant) ID, a GUID
	ClientID string // the application (client) ID, a GUID
	// Certs and Key are the app's certificate credential: the key signs
	// the assertion, and the first certificate names it (x5t#S256). An
	// RSA key: Entra takes no other for apps.
	Certs []*x509.Certificate
	Key   crypto.PrivateKey
	// Secret is the client secret's value, when there is no certificate.
	Secret roster.Secret
	Cloud  Cloud
	// HTTP carries both the token requests and the Graph calls; nil
	// means a client with roster's timeouts and the system's roots.
	HTTP *http.Client
	// Tries bounds the attempts at one Graph page (throttled or
	// unavailable); 0 means 5. MaxWait bounds one wait; 0 means 60 s.
	Tries   int
	MaxWait time.Duration
}

// Client reads one tenant. It is safe for concurrent use; its token
// credential caches tokens for the process's life.
type Client struct {
	cfg   Config
	cred  azcore.TokenCredential
	http  *http.Client
	sleep func(context.Context, time.Duration) error
}

// New checks cfg and makes its client; no request is sent yet.
//
// Errors: EINVALID, naming the setting that is missing or wrong.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.TenantID == "":
		return nil, roster.Errorf(roster.EINVALID, "give the tenant ID (Entra admin center, Overview, Tenant ID)")
	case cfg.TenantID == "common" || cfg.TenantID == "organizations" || cfg.TenantID == "consumers":
		return nil, roster.Errorf(roster.EINVALID, "the tenant %q is not a tenant: give the directory (tenant) ID of the organisation, a GUID", cfg.TenantID)
	case cfg.ClientID == "":
		return nil, roster.Errorf(roster.EINVALID, "give the application (client) ID of the app registration")
	case cfg.Key == nil && !cfg.Secret.IsSet():
		return nil, roster.Errorf(roster.EINVALID, "give the app's certificate and key (roster cert new -for graph), or a client secret")
	case cfg.Cloud.AuthorityHost == "" || cfg.Cloud.GraphHost == "":
		cfg.Cloud = Global
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 100 * time.Second}
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 5
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Minute
	}
	opts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.Cloud.AuthorityHost},
		Transport: cfg.HTTP,
		// One try: a wrong secret must not be sent again and again; a
		// token the run could not get fails the run, which removes nobody.
		Retry: policy.RetryOptions{MaxRetries: -1},
	}
	// Instance discovery asks login.microsoftonline.com about the host,
	// which is right for Microsoft's clouds only.
	disable := !known(cfg.Cloud.AuthorityHost)
	c := &Client{cfg: cfg, http: cfg.HTTP, sleep: sleepCtx}
	var err error
	if cfg.Key != nil {
		if len(cfg.Certs) == 0 {
			return nil, roster.Errorf(roster.EINVALID, "the app's key has no certificate with it")
		}
		pub, ok := cfg.Key.(interface{ Public() crypto.PublicKey })
		if _, rsaKey := cfg.Key.(*rsa.PrivateKey); !rsaKey {
			return nil, roster.Errorf(roster.EINVALID, "the app's key is not an RSA key: Entra ID takes only RSA certificates for apps (roster cert new -for graph makes one)")
		}
		if eq, ok2 := cfg.Certs[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !ok2 || !eq.Equal(pub.Public()) {
			return nil, roster.Errorf(roster.EINVALID, "the app's key does not belong to its certificate (%s): give the key made with that certificate", cfg.Certs[0].Subject.CommonName)
		}
		c.cred, err = azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, cfg.Certs, cfg.Key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable})
	} else {
		c.cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, string(cfg.Secret),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable})
	}
	if err != nil {
		return nil, &roster.Error{Code: roster.EINVALID, Message: "the app registration's settings are not valid: " + err.Error(), Err: err}
	}
	return c, nil
}

// known reports whether host is the authority host of one of Microsoft's
// clouds.
func known(host string) bool {
	for _, c := range Clouds {
		if strings.EqualFold(c.AuthorityHost, host) {
			return true
		}
	}
	return false
}

// GraphHost is the Graph root the client reads, for logs.
func (c *Client) GraphHost() string { return c.cfg.Cloud.GraphHost }

// Token gets an access token for Graph (from the cache while it lasts).
//
// Errors: EUNAUTHORIZED or EINVALID with the AADSTS code's fix,
// EUNAVAILABLE when the token endpoint cannot be reached.
func (c *Client) Token(ctx context.Context) (string, error) {
	t, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.cfg.Cloud.scope()}})
	if err != nil {
		return "", c.tokenError(err)
	}
	return t.Token, nil
}

// get reads one Graph URL into v; anything but a 200 fails (see do).
func (c *Client) get(ctx context.Context, url string, v any) error {
	resp, body, tries, err := c.do(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return graphError(resp.StatusCode, body, tries)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &roster.Error{Code: roster.EUNAVAILABLE, Message: "Microsoft Graph answered a page that is not valid JSON; the read stops here and removes nobody", Err: err}
	}
	return nil
}

// do sends a request (send) and sends it again after a 429, 503 or 504,
// after its Retry-After (else a doubling wait), up to Tries attempts, no
// wait longer than MaxWait. It returns the last answer and how many
// attempts it took; the caller reads the status.
func (c *Client) do(ctx context.Context, method, url string, body []byte) (*http.Response, []byte, int, error) {
	wait := time.Second
	for try := 1; ; try++ {
		resp, answer, err := c.send(ctx, method, url, body)
		if err != nil {
			return nil, nil, try, err
		}
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			if try >= c.cfg.Tries {
				return resp, answer, try, nil
			}
			d := wait
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
				d = time.Duration(s) * time.Second
			}
			if err := c.sleep(ctx, min(d, c.cfg.MaxWait)); err != nil {
				return nil, nil, try, err
			}
			wait = min(2*wait, c.cfg.MaxWait)
		default:
			return resp, answer, try, nil
		}
	}
}

// send makes one request to Graph with the app's token, and returns the
// answer with its body read (at most 64 MiB: a longer one is cut, and
// fails to decode rather than end a read short).
func (c *Client) send(ctx context.Context, method, url string, body []byte) (*http.Response, []byte, error) {
	token, err := c.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, nil, roster.Errorf(roster.EINTERNAL, "graph: bad URL %s: %v", url, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// A background sync goes behind interactive work in throttling.
	req.Header.Set("x-ms-throttle-priority", "Low")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, &roster.Error{Code: roster.EUNAVAILABLE, Message: fmt.Sprintf("Microsoft Graph (%s) could not be reached: %v", c.cfg.Cloud.GraphHost, unwrapURL(err)), Err: err}
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	if err != nil {
		return nil, nil, &roster.Error{Code: roster.EUNAVAILABLE, Message: fmt.Sprintf("Microsoft Graph's answer was cut: %v", err), Err: err}
	}
	return resp, answer, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func unwrapURL(err error) error {
	var u interface{ Unwrap() error }
	if errors.As(err, &u) && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}
