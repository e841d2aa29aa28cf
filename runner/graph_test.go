package runner

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/lab/graphlab"
	"github.com/rosterhq/roster/reconcile"
)

const (
	graphTenant = "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55"
	graphClient = "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77"
)

// graphUsers are the n users graphSource's tenant holds: person0 to
// person<n-1>@corp.test, person3 disabled, each with a card.
func graphUsers(n int) []map[string]any {
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "userPrincipalName": fmt.Sprintf("person%d@corp.test", i),
			"displayName": fmt.Sprintf("Person %d", i), "mail": fmt.Sprintf("person%d@corp.test", i), "accountEnabled": i != 3,
			"employeeId": fmt.Sprintf("%06d", 100000+i)}
	}
	return users
}

// graphSource starts a Graph double with n people and returns an
// entra-id source that reads it with a certificate credential, from PEM
// files as roster keeps them, trusting the double's TLS certificate as
// its CA.
func graphSource(t *testing.T, n int) (*graphlab.Server, *roster.Source) {
	t.Helper()
	cred, err := graphlab.NewCredential()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := cred.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := graphlab.New(graphTenant)
	t.Cleanup(s.Close)
	s.Register(graphlab.App{ClientID: graphClient, Certs: []*x509.Certificate{cred.Cert}, Roles: []string{"User.Read.All", "GroupMember.Read.All"}})
	users := graphUsers(n)
	s.SetUsers(users)
	s.SetGroups([]graphlab.Group{{ID: "g-print", Name: "Printing", Members: []string{users[0]["id"].(string), users[1]["id"].(string)}}})
	src := &roster.Source{Name: "tenant", Type: roster.EntraID,
		Graph:   roster.GraphApp{TenantID: graphTenant, ClientID: graphClient, AuthorityHost: s.URL, GraphHost: s.URL, CertFile: certFile, KeyFile: keyFile},
		Trust:   roster.Trust{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})},
		Mapping: roster.Mapping{Cards: []string{"employeeId"}}}
	if err := src.Validate(); err != nil {
		t.Fatal(err)
	}
	return s, src
}

// An entra-id source syncs through the one driver: users with their
// cards and disabled state, groups with their members; a user gone
// from the tenant is disabled by the next full sync.
func TestSyncEntraID(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	s, src := graphSource(t, 1500)
	id, _ := r.Store.SourceID(ctx, src.Name)
	res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != roster.RunSucceeded || res.Run.Created != 1500 {
		t.Fatalf("first sync: %+v", res.Run)
	}
	u, err := r.Store.UserByLogin(ctx, "person3@corp.test")
	if err != nil || !u.Disabled || len(u.Cards) != 1 || u.Cards[0].Number != "100003" || u.Name != "Person 3" {
		t.Fatalf("person3: %+v, %v", u, err)
	}
	groups, err := r.Store.Groups(ctx)
	if err != nil || len(groups) != 1 || groups[0].Name != "Printing" || groups[0].Users != 2 {
		t.Fatalf("groups: %+v, %v", groups, err)
	}

	// Throttled and unavailable pages are waited out: the run reads
	// everyone, and changes nothing.
	// The faults are queued once the first page is read, so that they
	// meet the second page, not the delta mark taken before the read.
	s.RetryAfter = 0
	fired := false
	throttle := func(p reconcile.Progress) {
		if p.Seen == 999 && !fired {
			fired = true
			s.Fail(http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusServiceUnavailable)
		}
	}
	before := s.CallsTo("/v1.0/users")
	if res, err = r.Sync(ctx, src, id, reconcile.Options{}, Hooks{Progress: throttle}); err != nil || res.Run.Seen != 1500 || res.Run.Updated+res.Run.Disabled != 0 {
		t.Fatalf("a throttled sync: %+v, %v", res.Run, err)
	}
	if n := s.CallsTo("/v1.0/users") - before; !fired || n != 2+3 {
		t.Fatalf("a throttled sync: %d calls to /v1.0/users; want 2 pages and 3 faults on the second", n)
	}

	s.DeleteUser("00000000-0000-4000-8000-000000000007", true)
	if res, err = r.Sync(ctx, src, id, reconcile.Options{}, Hooks{}); err != nil || res.Run.Disabled != 1 {
		t.Fatalf("after a deletion: %+v, %v", res.Run, err)
	}
	if u, _ := r.Store.UserByLogin(ctx, "person7@corp.test"); u == nil || !u.Disabled {
		t.Errorf("person7, deleted in the tenant, is not disabled: %+v", u)
	}
}

// A Graph read that fails after its retries fails the run, and nobody
// is removed, even though fewer users were read.
func TestSyncEntraIDCutRemovesNobody(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	s, src := graphSource(t, 2500)
	id, _ := r.Store.SourceID(ctx, src.Name)
	if _, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	s.RetryAfter = 0
	calls := s.CallsTo("/v1.0/users")
	// The second page of the next read fails more often than the client
	// tries.
	progress := func(p reconcile.Progress) {
		if p.Seen == 999 {
			s.Fail(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
		}
	}
	res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{Progress: progress})
	if err == nil || roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(roster.ErrorMessage(err), "removes nobody") {
		t.Fatalf("a cut read: %v (%+v)", err, res)
	}
	if s.CallsTo("/v1.0/users") <= calls+1 {
		t.Fatalf("the cut was not reached")
	}
	n := 0
	r.Store.Users(ctx, id, func(u *roster.User) error {
		if u.Disabled && u.DisabledReason == roster.DisabledMissing {
			n++
		}
		return nil
	})
	if n != 0 {
		t.Fatalf("%d users removed after a failed read", n)
	}
}

// Incremental runs of an entra-id source read Graph's delta: the
// changed, the new and the removed users only. When the delta link has
// expired, the run reads everything as a full sync does, and says why.
func TestSyncEntraIDIncremental(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	s, src := graphSource(t, 1200)
	id, _ := r.Store.SourceID(ctx, src.Name)
	if _, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	s.UpsertUser(map[string]any{"id": "00000000-0000-4000-8000-000000000005", "userPrincipalName": "person5@corp.test",
		"displayName": "Person Five Renamed", "accountEnabled": true, "employeeId": "100005"})
	s.UpsertUser(map[string]any{"id": "new-person", "userPrincipalName": "newcomer@corp.test", "displayName": "Newcomer", "accountEnabled": true})
	s.DeleteUser("00000000-0000-4000-8000-000000000009", false)
	res, err := r.Sync(ctx, src, id, reconcile.Options{Incremental: true}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if run := res.Run; run.Mode != roster.RunIncremental || run.Seen != 2 || run.Updated != 1 || run.Created != 1 || run.Disabled != 1 {
		t.Fatalf("incremental: mode %s seen %d updated %d created %d disabled %d; notes %q", run.Mode, run.Seen, run.Updated, run.Created, run.Disabled, run.Notes)
	}
	if u, _ := r.Store.UserByLogin(ctx, "person5@corp.test"); u == nil || u.Name != "Person Five Renamed" {
		t.Errorf("person5 after the incremental run: %+v", u)
	}

	s.DeleteUser("00000000-0000-4000-8000-000000000011", true)
	s.ExpireDeltaTokens(false)
	res, err = r.Sync(ctx, src, id, reconcile.Options{Incremental: true}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if run := res.Run; run.Mode != roster.RunFull || run.Seen != 1199 || run.Disabled != 1 || !strings.Contains(strings.Join(run.Notes, "\n"), "delta link") {
		t.Fatalf("after the delta link expired: mode %s seen %d disabled %d; notes %q", run.Mode, run.Seen, run.Disabled, run.Notes)
	}
	if res, err = r.Sync(ctx, src, id, reconcile.Options{Incremental: true}, Hooks{}); err != nil || res.Run.Mode != roster.RunIncremental || res.Run.Seen != 0 {
		t.Fatalf("the run after: %+v, %v", res.Run, err)
	}
}

// The console's connection test of an entra-id source gets a token and
// counts the users; a credential the tenant refuses is its error.
func TestConnectionTestEntraID(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	s, src := graphSource(t, 40)
	svc := NewService(ctx, r, t.TempDir())
	got := svc.Test(ctx, src)
	if !got.OK || got.Users != 40 || got.Disabled != 1 || got.URL != s.URL {
		t.Fatalf("test: %+v", got)
	}
	s.Register(graphlab.App{ClientID: graphClient, Roles: []string{"User.Read.All"}}) // the certificate is gone from the app
	if got := svc.Test(ctx, src); got.OK || !strings.Contains(got.Error, "AADSTS700027") {
		t.Fatalf("test with a certificate the app no longer has: %+v", got)
	}
}

// Write-back of a print code to Entra ID: off unless set; refused with
// the permission to grant when the app may not write; written once to
// the extension attribute the mapping reads, and not again when it holds
// the value.
func TestWriteBackToEntraID(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	s, src := graphSource(t, 5)
	ext := "onPremisesExtensionAttributes/extensionAttribute6"
	src.Mapping.PrintCode, src.WriteBack.PrintCode = ext, ext
	if err := src.Validate(); err != nil {
		t.Fatal(err)
	}
	r.Store.Sealer = testSealer(t)
	if err := r.Store.SaveSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Sync(ctx, src, src.ID, reconcile.Options{}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	u, err := r.Store.UserByLogin(ctx, "person2@corp.test")
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(ctx, r, t.TempDir())
	if _, err := svc.WriteBack(ctx, u, roster.WritePrintCode, "482916"); roster.ErrorCode(err) != roster.EFORBIDDEN || !strings.Contains(roster.ErrorMessage(err), "User.ReadWrite.All") {
		t.Fatalf("a write without User.ReadWrite.All: %v", err)
	}
	// The console's write test reads the same from the app's token, not
	// from an LDAP sign-in.
	if wt, err := svc.TestWrite(ctx, src.ID); err != nil || len(wt.Checks) != 1 || wt.Checks[0].OK || !strings.Contains(wt.Checks[0].Error, "User.ReadWrite.All") {
		t.Fatalf("the write test without User.ReadWrite.All: %+v, %v", wt, err)
	}
	cred := s.UserByID(u.Anchor)
	s.Register(graphlab.App{ClientID: graphClient, Certs: appCerts(t, src), Roles: []string{"User.Read.All", "GroupMember.Read.All", "User.ReadWrite.All"}})
	if wt, err := svc.TestWrite(ctx, src.ID); err != nil || len(wt.Checks) != 1 || !wt.Checks[0].OK {
		t.Fatalf("the write test with User.ReadWrite.All: %+v, %v", wt, err)
	}
	if _, err := svc.WriteBack(ctx, u, roster.WritePrintCode, "482916"); err != nil {
		t.Fatal(err)
	}
	got := s.UserByID(u.Anchor)
	if ext, _ := got["onPremisesExtensionAttributes"].(map[string]any); ext["extensionAttribute6"] != "482916" || cred["displayName"] != got["displayName"] {
		t.Fatalf("after the write: %v", got)
	}
	runs, _ := r.Store.Runs(ctx, src.ID, 5)
	if len(runs) == 0 || runs[0].Mode != roster.RunWriteBack || runs[0].Status != roster.RunSucceeded || strings.Contains(strings.Join(runs[0].Notes, " "), "482916") {
		t.Fatalf("the write-back run: %+v", runs)
	}

	// Throttled for longer than a write may take: the admin gets the
	// answer at the limit, saying the value is set in roster, instead of
	// waiting through every retry.
	defer func(limit time.Duration) { writeBackLimit = limit }(writeBackLimit)
	writeBackLimit = 100 * time.Millisecond
	s.RetryAfter = 30
	s.Fail(http.StatusTooManyRequests)
	if _, err := svc.WriteBack(ctx, u, roster.WritePrintCode, "771204"); roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(roster.ErrorMessage(err), "did not take the write within 100ms; the value is set in roster") {
		t.Fatalf("a write throttled past the limit: %v", err)
	}
}

func testSealer(t *testing.T) cipher.AEAD {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	s, err := datadir.Sealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// appCerts reads the certificate file of an entra-id source.
func appCerts(t *testing.T, src *roster.Source) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(src.Graph.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{c}
}

// A preview of a mass removal counts every held removal, and every
// change it does not list, though the run keeps only the first of the
// held removals whole.
func TestAPreviewCountsEveryHeldRemoval(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	s, src := graphSource(t, 1200)
	if err := r.Store.SaveSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	if res, err := r.Sync(ctx, src, src.ID, reconcile.Options{}, Hooks{}); err != nil || res.Run.Created != 1200 {
		t.Fatalf("first sync: %v, %+v", err, res)
	}
	s.SetUsers(graphUsers(1200)[:10])
	p, err := NewService(ctx, r, t.TempDir()).Preview(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	const gone = 1190
	if p.Held != gone || p.Run.Held != gone || len(p.Changes)+p.More != gone || len(p.Changes) == 0 {
		t.Fatalf("preview of %d users gone: held %d (run %d), %d changes listed and %d more", gone, p.Held, p.Run.Held, len(p.Changes), p.More)
	}
	for _, ch := range p.Changes {
		if ch.Kind != roster.Disable {
			t.Fatalf("the preview lists %+v; want only the held disables", ch)
		}
	}
}

// A preview of a first sync larger than its list lists the first
// changes, in the run's order, and counts the others.
func TestAPreviewListsTheFirstChangesAndCountsTheRest(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	const users = maxPreviewChanges + 345
	_, src := graphSource(t, users)
	if err := r.Store.SaveSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	p, err := NewService(ctx, r, t.TempDir()).Preview(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Run.Created != users || len(p.Changes) != maxPreviewChanges || p.More != users-maxPreviewChanges {
		t.Fatalf("preview of %d new users: created %d, %d listed and %d more", users, p.Run.Created, len(p.Changes), p.More)
	}
	for i, ch := range p.Changes {
		if ch.Kind != roster.Create || ch.Login == "" || i > 0 && ch.Login == p.Changes[i-1].Login {
			t.Fatalf("change %d of the preview: %+v", i, ch)
		}
	}
	if n, err := r.Store.CountUsers(ctx, src.ID); err != nil || n != 0 {
		t.Fatalf("the preview stored %d users (%v)", n, err)
	}
}
