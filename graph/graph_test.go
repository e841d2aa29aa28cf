package graph_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
	"github.com/rosterhq/roster/lab/graphlab"
)

const (
	tenant   = "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55"
	clientID = "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77"
	secret   = "lab~Secret.Value-0123456789abcdefghij"
)

// appCert makes an app certificate as roster cert new -for graph would:
// RSA 2048, self-signed.
func appCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	c, err := graphlab.NewCredential()
	if err != nil {
		t.Fatal(err)
	}
	return c.Cert, c.Key
}

func people(n int) []map[string]any {
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "userPrincipalName": fmt.Sprintf("user%d@corp.test", i),
			"displayName": fmt.Sprintf("User %d", i), "accountEnabled": i%10 != 0, "department": "Sales",
			"onPremisesExtensionAttributes": map[string]any{"extensionAttribute5": fmt.Sprintf("%08d", i)}}
	}
	return users
}

func lab(t *testing.T, roles ...string) (*graphlab.Server, graph.Config, *rsa.PrivateKey) {
	t.Helper()
	s := graphlab.New(tenant)
	t.Cleanup(s.Close)
	cert, key := appCert(t)
	s.Register(graphlab.App{ClientID: clientID, Secret: secret, Certs: []*x509.Certificate{cert}, Roles: roles})
	cfg := graph.Config{TenantID: tenant, ClientID: clientID, Certs: []*x509.Certificate{cert}, Key: key,
		Cloud: graph.Cloud{AuthorityHost: s.AuthorityHost(), GraphHost: s.GraphHost()}, HTTP: s.Client(), MaxWait: 10 * time.Millisecond}
	return s, cfg, key
}

func readAll(t *testing.T, cfg graph.Config, fields ...string) ([]graph.Object, int, error) {
	t.Helper()
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var all []graph.Object
	pages := 0
	err = c.Users(context.Background(), fields, func(p []graph.Object) error {
		pages++
		all = append(all, p...)
		return nil
	})
	return all, pages, err
}

// With a certificate (MSAL's assertion, checked by the lab against the
// uploaded certificate) and with a secret, the app reads every user, 999
// a page, with the properties it selected and no others.
func TestUsersWithACertificateAndWithASecret(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All", "GroupMember.Read.All")
	s.SetUsers(people(2500))
	bySecret := cfg
	bySecret.Certs, bySecret.Key, bySecret.Secret = nil, nil, secret
	for name, cfg := range map[string]graph.Config{"certificate": cfg, "secret": bySecret} {
		t.Run(name, func(t *testing.T) {
			users, pages, err := readAll(t, cfg, "userPrincipalName", "accountEnabled", "onPremisesExtensionAttributes")
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 2500 || pages != 3 {
				t.Fatalf("%d users in %d pages; want 2500 in 3", len(users), pages)
			}
			u := users[1234]
			if u.ID() != "00000000-0000-4000-8000-000000001234" || u.String("userPrincipalName") != "user1234@corp.test" ||
				u.String("onPremisesExtensionAttributes/extensionAttribute5") != "00001234" || u["accountEnabled"] != true {
				t.Errorf("user 1234: %v", u)
			}
			if _, ok := u["displayName"]; ok {
				t.Errorf("displayName came back without being selected: %v", u)
			}
		})
	}
}

// Each wrong set-up fails with its AADSTS code and what to fix, never
// with the secret in the message.
func TestTokenRefusalsSayWhatToFix(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All")
	other, otherKey := appCert(t)
	for _, tt := range []struct {
		name   string
		change func(*graph.Config)
		code   string
		want   string
	}{
		{"unknown app", func(c *graph.Config) { c.ClientID = "11111111-2222-3333-4444-555555555555" }, roster.EUNAUTHORIZED, "AADSTS700016"},
		{"wrong secret", func(c *graph.Config) { c.Certs, c.Key, c.Secret = nil, nil, "the-secret-ID-not-its-value" }, roster.EUNAUTHORIZED, "Secret ID"},
		{"certificate not uploaded", func(c *graph.Config) { c.Certs, c.Key = []*x509.Certificate{other}, otherKey }, roster.EUNAUTHORIZED, "AADSTS700027"},
		{"wrong tenant", func(c *graph.Config) { c.TenantID = "99999999-0000-0000-0000-000000000000" }, roster.EINVALID, "AADSTS90002"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			tt.change(&c)
			_, _, err := readAll(t, c)
			if roster.ErrorCode(err) != tt.code || !strings.Contains(roster.ErrorMessage(err), tt.want) {
				t.Fatalf("got %v (%s); want %s naming %q", err, roster.ErrorCode(err), tt.code, tt.want)
			}
			if strings.Contains(err.Error(), "the-secret-ID-not-its-value") || strings.Contains(roster.ErrorMessage(err), secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	s.Register(graphlab.App{ClientID: clientID, Secret: secret, SecretExpired: true})
	c := cfg
	c.Certs, c.Key, c.Secret = nil, nil, secret
	if _, _, err := readAll(t, c); !strings.Contains(roster.ErrorMessage(err), "AADSTS7000222") {
		t.Errorf("expired secret: %v", err)
	}
}

// A key that is not the certificate's is refused before any request.
func TestKeyMustBelongToTheCertificate(t *testing.T) {
	_, cfg, _ := lab(t, "User.Read.All")
	_, otherKey := appCert(t)
	cfg.Key = otherKey
	if _, err := graph.New(cfg); roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(roster.ErrorMessage(err), "does not belong") {
		t.Fatalf("got %v; want EINVALID saying the key does not belong to the certificate", err)
	}
}

// An app without User.Read.All is refused, and the message names the
// permission to grant.
func TestMissingPermissionNamesIt(t *testing.T) {
	s, cfg, _ := lab(t, "GroupMember.Read.All")
	s.SetUsers(people(3))
	_, _, err := readAll(t, cfg)
	if roster.ErrorCode(err) != roster.EFORBIDDEN || !strings.Contains(roster.ErrorMessage(err), "User.Read.All") {
		t.Fatalf("got %v; want EFORBIDDEN naming User.Read.All", err)
	}
}

// Throttling and unavailability are waited out within the bound; a page
// that keeps failing fails the whole read: no shorter answer.
func TestThrottlingIsWaitedOutOrFailsTheRead(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All")
	s.SetUsers(people(2000))
	s.Fail(http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusTooManyRequests)
	users, _, err := readAll(t, cfg)
	if err != nil || len(users) != 2000 {
		t.Fatalf("after 3 faults: %d users, %v", len(users), err)
	}
	if n := s.CallsTo("/v1.0/users"); n != 3+3 {
		t.Errorf("%d calls; want 3 pages and 3 faults", n)
	}

	cfg.Tries = 3
	// The second page fails three times: the read must fail, having
	// handed over only the first page.
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	err = c.Users(context.Background(), nil, func(p []graph.Object) error {
		got += len(p)
		if got == 999 {
			s.Fail(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
		}
		return nil
	})
	if roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(roster.ErrorMessage(err), "removes nobody") || got != 999 {
		t.Fatalf("a page failing 3 times: %d users handed over, %v; want 999 and EUNAVAILABLE", got, err)
	}
}

// A page answered 200 without a value list, as from a proxy, fails the
// read: it is not taken for an empty last page.
func TestPageWithoutValueFailsTheRead(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All")
	s.SetUsers(people(2000))
	c, _ := graph.New(cfg)
	got := 0
	err := c.Users(context.Background(), nil, func(p []graph.Object) error {
		if got += len(p); got == 999 {
			s.Fail(http.StatusOK)
		}
		return nil
	})
	if roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(roster.ErrorMessage(err), "removes nobody") || got != 999 {
		t.Fatalf("a page without value after 999 users: %d handed over, %v", got, err)
	}
	if _, err := c.UsersDelta(context.Background(), "", nil, func(graph.DeltaPage) error { s.Fail(http.StatusOK); return nil }); err == nil {
		t.Fatal("a delta round with a page without value ended without an error")
	}
}

// A write Entra ID refuses for a user mastered on-premises says so, and
// where to write instead.
func TestWriteToAUserMasteredOnPremises(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All", "User.ReadWrite.All")
	users := people(2)
	users[1]["onPremisesSyncEnabled"] = true
	s.SetUsers(users)
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if wrote, err := c.SetProperty(ctx, users[0]["id"].(string), "onPremisesExtensionAttributes/extensionAttribute6", "4711"); err != nil || !wrote {
		t.Fatalf("a cloud user's write: %v, %v", wrote, err)
	}
	_, err = c.SetProperty(ctx, users[1]["id"].(string), "onPremisesExtensionAttributes/extensionAttribute6", "4711")
	if roster.ErrorCode(err) != roster.EFORBIDDEN || !strings.Contains(roster.ErrorMessage(err), "on-premises AD") || !strings.Contains(roster.ErrorMessage(err), "directory extension") {
		t.Fatalf("a write to a user mastered on-premises: %v", err)
	}
}
