package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/graphlab"
)

const (
	entraTenant = "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55"
	entraClient = "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77"
	entraSecret = "lab~Secret.Value-0123456789abcdefghij"
)

// entraLab starts a Graph double with n people for the CLI: the flags of
// an entra-id source with a certificate, and the files they name.
func entraLab(t *testing.T, n int) (*graphlab.Server, []string, string) {
	t.Helper()
	cred, err := graphlab.NewCredential()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, err := cred.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := graphlab.New(entraTenant)
	t.Cleanup(s.Close)
	s.Register(graphlab.App{ClientID: entraClient, Secret: entraSecret, Certs: []*x509.Certificate{cred.Cert}, Roles: []string{"User.Read.All", "GroupMember.Read.All"}})
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "userPrincipalName": fmt.Sprintf("Pupil%d@School.Test", i),
			"displayName": fmt.Sprintf("Pupil %d", i), "accountEnabled": true, "department": "Year 7",
			"onPremisesExtensionAttributes": map[string]any{"extensionAttribute5": fmt.Sprintf("%d", 4000+i)}}
	}
	s.SetUsers(users)
	ca := filepath.Join(dir, "graph-ca.pem")
	os.WriteFile(ca, s.CAPEM(), 0o644)
	flags := []string{"-type", "entra-id", "-tenant", entraTenant, "-client-id", entraClient,
		"-authority-host", s.URL, "-graph-host", s.URL, "-ca", ca}
	return s, append(flags, "-cert", certFile, "-key", keyFile), ca
}

// roster sync reads Entra ID through Graph from the command line, with
// a certificate; a configuration file describing the same source with
// its client secret finds nothing to change.
func TestSyncEntraIDFromTheCommandLine(t *testing.T) {
	s, flags, ca := entraLab(t, 1200)
	data := t.TempDir()
	args := append([]string{"sync", "-data", data, "-name", "school"}, flags...)
	r := syncJSON(t, exitOK, args...)
	if r.Run.Created != 1200 || r.Run.Failed != 0 {
		t.Fatalf("first sync: %s", counts(r.Run))
	}
	code, out, errOut := runCLI(t, nil, "users", "show", "pupil7@school.test", "-data", data, "-json")
	if code != exitOK || !strings.Contains(out, `"Pupil 7"`) || !strings.Contains(out, "Year 7") {
		t.Fatalf("users show = %d\n%s%s", code, out, errOut)
	}

	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte(entraSecret+"\n"), 0o600)
	cfg := map[string]any{"data_dir": data, "sources": []any{map[string]any{
		"name": "school", "type": "entra-id", "password_file": secretFile, "ca_file": ca,
		"graph": map[string]any{"tenant_id": entraTenant, "client_id": entraClient, "authority_host": s.URL, "graph_host": s.URL},
	}}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "roster.json")
	os.WriteFile(cfgFile, b, 0o600)
	r = syncJSON(t, exitOK, "sync", "-config", cfgFile)
	if r.Run.Seen != 1200 || r.Run.Created+r.Run.Updated+r.Run.Disabled != 0 {
		t.Fatalf("the same source from a configuration file with its secret: %s", counts(r.Run))
	}
	// An incremental run reads the delta: the one user changed since.
	s.UpsertUser(map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", 9), "userPrincipalName": "Pupil9@School.Test",
		"displayName": "Pupil Nine", "accountEnabled": true, "department": "Year 8"})
	r = syncJSON(t, exitOK, "sync", "-config", cfgFile, "-incremental")
	if r.Run.Mode != roster.RunIncremental || r.Run.Seen != 1 || r.Run.Updated != 1 {
		t.Fatalf("an incremental run from the command line: mode %s, %s", r.Run.Mode, counts(r.Run))
	}
}

// A wrong client secret fails the run with the AADSTS code and what to
// do, and never shows the secret.
func TestSyncEntraIDWrongSecret(t *testing.T) {
	_, flags, _ := entraLab(t, 3)
	flags = flags[:len(flags)-4] // no certificate: the secret
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("the-Secret-ID-by-mistake"), 0o600)
	code, out, errOut := runCLI(t, nil, append([]string{"sync", "-data", t.TempDir(), "-name", "school", "-password-file", secretFile}, flags...)...)
	if code != exitFailure || !strings.Contains(errOut, "AADSTS7000215") || !strings.Contains(errOut, "not its Secret ID") {
		t.Fatalf("sync with a wrong secret = %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "the-Secret-ID-by-mistake") {
		t.Fatalf("the secret is shown:\n%s%s", out, errOut)
	}
}

// roster cert new -for graph makes the app's credential: a public .cer
// to upload and a private key; the token endpoint takes an assertion
// signed with it once the .cer is uploaded to the app.
func TestCertNewForGraph(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, nil, "cert", "new", "-for", "graph", "-name", "roster-print", "-out", out)
	if code != exitOK || !strings.Contains(stdout, "User.Read.All and GroupMember.Read.All") || !strings.Contains(stdout, "Grant admin consent") {
		t.Fatalf("cert new -for graph = %d\n%s%s", code, stdout, stderr)
	}
	cerFile, keyFile := filepath.Join(out, "roster-print.cer"), filepath.Join(out, "roster-print.key")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key: %v %v", fi, err)
	}
	b, _ := os.ReadFile(cerFile)
	block, _ := pem.Decode(b)
	if block == nil || strings.Contains(string(b), "PRIVATE") {
		t.Fatalf("the .cer is not a public PEM certificate:\n%s", b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s, flags, _ := entraLab(t, 5)
	s.Register(graphlab.App{ClientID: entraClient, Certs: []*x509.Certificate{cert}, Roles: []string{"User.Read.All", "GroupMember.Read.All"}})
	flags = append(flags[:len(flags)-4], "-cert", cerFile, "-key", keyFile)
	if r := syncJSON(t, exitOK, append([]string{"sync", "-data", t.TempDir(), "-name", "school"}, flags...)...); r.Run.Created != 5 {
		t.Fatalf("a sync with the new credential: %s", counts(r.Run))
	}
	if code, _, stderr := runCLI(t, nil, "cert", "new", "-for", "graph", "-name", "roster-print", "-out", out); code != exitUsage || !strings.Contains(stderr, "already exists") {
		t.Errorf("a second cert new over the first = %d: %s", code, stderr)
	}
}

// roster connect tests an entra-id source: a token, then the users.
func TestConnectEntraID(t *testing.T) {
	_, flags, _ := entraLab(t, 1200)
	code, out, errOut := runCLI(t, nil, append([]string{"connect", "-json"}, flags...)...)
	var r struct{ Users, Disabled, Pages int }
	if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || r.Users != 1200 || r.Pages != 2 {
		t.Fatalf("connect = %d %+v\n%s%s", code, r, out, errOut)
	}
}

// roster doctor walks an entra-id source's chain; a missing permission
// stops it at the roles, with exit status 1 and the fix.
func TestDoctorEntraID(t *testing.T) {
	s, flags, _ := entraLab(t, 3)
	if code, out, errOut := runCLI(t, nil, append([]string{"doctor"}, flags...)...); code != exitOK || !strings.Contains(out, "every step passed") {
		t.Fatalf("doctor = %d\n%s%s", code, out, errOut)
	}
	b, _ := os.ReadFile(flags[len(flags)-3])
	block, _ := pem.Decode(b)
	appCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s.Register(graphlab.App{ClientID: entraClient, Certs: []*x509.Certificate{appCert}, Roles: []string{"User.Read.All"}})
	code, out, errOut := runCLI(t, nil, append([]string{"doctor"}, flags...)...)
	if code != exitFailure || !strings.Contains(out, "fail  roles") || !strings.Contains(out, "GroupMember.Read.All") {
		t.Fatalf("doctor without GroupMember.Read.All = %d\n%s%s", code, out, errOut)
	}
}
