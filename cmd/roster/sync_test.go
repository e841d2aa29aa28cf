package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/lab/labenv"
)

// syncArgs is the founding article's form for a lab directory, plus the
// data folder and, when base is set, a base DN of the test's own.
func syncArgs(env *labenv.Env, d labenv.Directory, data, name, base string) []string {
	args := append([]string{"sync", "-data", data, "-name", name}, labArgs(env, d)...)
	if base != "" {
		for i := range args {
			if args[i] == "-base-dn" {
				args[i+1] = base
				return args
			}
		}
		args = append(args, "-base-dn", base)
	}
	return args
}

type runJSON struct {
	Run     roster.Run
	Changes []struct {
		Kind     string
		Login    string
		OldLogin string `json:"old_login"`
	}
}

func syncJSON(t *testing.T, wantCode int, args ...string) runJSON {
	t.Helper()
	code, out, errOut := runCLI(t, nil, append(args[:len(args):len(args)], "-json")...) // never into the caller's array
	if code != wantCode {
		t.Fatalf("roster %s = %d, want %d\n%s%s", strings.Join(args[:1], " "), code, wantCode, out, errOut)
	}
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("sync -json: %v\n%s", err, out)
	}
	return r
}

func counts(r roster.Run) string {
	return fmt.Sprintf("seen %d created %d updated %d renamed %d disabled %d reenabled %d deleted %d failed %d held %d",
		r.Seen, r.Created, r.Updated, r.Renamed, r.Disabled, r.Reenabled, r.Deleted, r.Failed, r.Held)
}

func TestSyncTheLabBothDirectoriesBothTLSModes(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range []struct {
		d    labenv.Directory
		mode string
	}{{labenv.AD, "ldaps"}, {labenv.AD, "starttls"}, {labenv.OpenLDAP, "ldaps"}, {labenv.OpenLDAP, "starttls"}} {
		t.Run(string(tc.d)+" "+tc.mode, func(t *testing.T) {
			data := t.TempDir()
			args := syncArgs(env, tc.d, data, "lab", "")
			if tc.mode == "starttls" {
				args = withTLS(env, tc.d, args, "starttls")
			} else {
				args = withTLS(env, tc.d, args, "ldaps")
			}
			want, wantDisabled := 0, 0
			for _, u := range env.Data(t, tc.d).Users {
				if tc.d == labenv.AD || !u.Service {
					want++
					if u.Disabled && tc.d == labenv.AD {
						wantDisabled++
					}
				}
			}
			r := syncJSON(t, exitOK, args...)
			if r.Run.Status != roster.RunSucceeded || r.Run.Created != want || r.Run.Seen != want || r.Run.Failed != 0 {
				t.Fatalf("first sync: %s, status %s; want %d created", counts(r.Run), r.Run.Status, want)
			}
			code, out, _ := runCLI(t, nil, "users", "-data", data, "-disabled", "-n", "1")
			if code != exitOK || !strings.Contains(out, fmt.Sprintf("of %d users", wantDisabled)) && wantDisabled > 0 {
				t.Errorf("users -disabled: want %d disabled\n%s", wantDisabled, out)
			}
			r = syncJSON(t, exitOK, args...)
			if got := counts(r.Run); got != fmt.Sprintf("seen %d created 0 updated 0 renamed 0 disabled 0 reenabled 0 deleted 0 failed 0 held 0", want) {
				t.Fatalf("unchanged re-sync: %s", got)
			}
		})
	}
}

// withTLS switches labArgs between LDAPS and StartTLS.
func withTLS(env *labenv.Env, d labenv.Directory, args []string, mode string) []string {
	url := env.Get("LAB_" + string(d) + "_LDAPS_URL")
	if mode == "starttls" {
		url = env.Get("LAB_" + string(d) + "_STARTTLS_URL")
	}
	_, hostport, _ := strings.Cut(url, "://")
	for i := range args {
		switch args[i] {
		case "-address":
			args[i+1] = hostport
		case "-tls":
			args[i+1] = mode
		}
	}
	if d == labenv.AD && mode == "starttls" {
		args = append(args, "-server-name", env.Get("LAB_AD_SERVER_NAME"))
	}
	return args
}

// The founding article's exact form: the IP address, the domain, the UPN
// of an ordinary user, LDAPS, and the lab's wildcard certificate verified.
func TestSyncWithTheArticlesExactSetup(t *testing.T) {
	env := labenv.Require(t)
	data := t.TempDir()
	code, out, errOut := runCLI(t, nil, "sync", "-data", data, "-type", "entra-ds", "-address", "127.0.0.1", "-tls", "ldaps",
		"-domain", "corp.test", "-login", "svc-print@corp.test", "-password-file", env.Get("LAB_BIND_PASSWORD_FILE"),
		"-ca", env.Get("LAB_CA_FILE"))
	if code != exitOK || !strings.Contains(out, "corp.test: run 1 of Entra Domain Services at ldaps://127.0.0.1:636: SUCCEEDED") {
		t.Fatalf("sync = %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, nil, "users", "show", "-data", data, "test-user")
	for _, want := range []string{"Test User", "card           0000000001 (primary, directory)", "print code     set (****", "group          Team Finance", "group          All Staff"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("users show test-user lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "2580") {
		t.Error("users show reveals the print code")
	}
	// The anchor is objectGUID in AD's own string form: AD finds the
	// entry by it (a <GUID=...> base), which a byte-swapped form would not.
	_, anchor, _ := strings.Cut(out, "anchor         ")
	anchor, _, _ = strings.Cut(anchor, "\n")
	c := env.Admin(t, labenv.AD)
	res, err := c.Search(goldap.NewSearchRequest("<GUID="+anchor+">", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"sAMAccountName"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("sAMAccountName") != "test-user" {
		t.Fatalf("AD does not find test-user by the stored anchor %q: %v", anchor, err)
	}
}

// testBase makes an OU of the test's own in a lab directory, and removes
// it with everything under it at the end. Syncs of that OU see only the
// test's users, and the generated data others count stays untouched.
func testBase(t *testing.T, env *labenv.Env, c *goldap.Conn, d labenv.Directory) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "rt-" + hex.EncodeToString(b)
	dn := "OU=" + name + "," + env.Get("LAB_AD_BASE_DN")
	if d == labenv.OpenLDAP {
		dn = "ou=" + name + "," + env.Get("LAB_OL_BASE_DN")
	}
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{name})
	if err := c.Add(add); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	t.Cleanup(func() {
		res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		if err == nil {
			for _, e := range res.Entries {
				c.Del(goldap.NewDelRequest(e.DN, nil))
			}
		}
		c.Del(goldap.NewDelRequest(dn, nil))
	})
	return dn
}

// runLogins makes a test's logins its own: logins are unique in a whole
// AD domain, so each carries part of the random name of the test's OU
// (testBase), and runs that share a lab never meet.
func runLogins(base string) func(name string) string {
	ou, _, _ := strings.Cut(base, ",")
	sfx := strings.TrimPrefix(ou[3:], "rt-")[:4]
	return func(name string) string { return name + "-" + sfx }
}

func addUser(t *testing.T, c *goldap.Conn, d labenv.Directory, base, login string) string {
	t.Helper()
	var dn string
	var add *goldap.AddRequest
	if d == labenv.AD {
		dn = "CN=" + login + "," + base
		add = goldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"user"})
		add.Attribute("sAMAccountName", []string{login})
		add.Attribute("userPrincipalName", []string{login + "@corp.test"})
		add.Attribute("displayName", []string{"Name " + login})
		add.Attribute("userAccountControl", []string{"544"}) // enabled, no password needed
	} else {
		dn = "uid=" + login + "," + base
		add = goldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"inetOrgPerson"})
		add.Attribute("uid", []string{login})
		add.Attribute("cn", []string{"Name " + login})
		add.Attribute("sn", []string{login})
		add.Attribute("displayName", []string{"Name " + login})
	}
	if err := c.Add(add); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	return dn
}

func TestSyncFollowsRenamesDisablesAndDeletes(t *testing.T) {
	env := labenv.Require(t)
	for _, d := range []labenv.Directory{labenv.AD, labenv.OpenLDAP} {
		t.Run(string(d), func(t *testing.T) {
			c := env.Admin(t, d)
			base := testBase(t, env, c, d)
			login := runLogins(base)
			var dns []string
			for i := 0; i < 12; i++ {
				dns = append(dns, addUser(t, c, d, base, login(fmt.Sprintf("mover%02d", i))))
			}
			data := t.TempDir()
			args := syncArgs(env, d, data, "moves", base)
			if r := syncJSON(t, exitOK, args...); r.Run.Created != 12 {
				t.Fatalf("first sync: %s", counts(r.Run))
			}

			// A rename: a new RDN and, on AD, a new sAMAccountName too.
			rdn := "CN=" + login("renamed00")
			if d == labenv.OpenLDAP {
				rdn = "uid=" + login("renamed00")
			}
			if err := c.ModifyDN(goldap.NewModifyDNRequest(dns[0], rdn, true, "")); err != nil {
				t.Fatal(err)
			}
			if d == labenv.AD {
				m := goldap.NewModifyRequest(rdn+","+base, nil)
				m.Replace("sAMAccountName", []string{login("renamed00")})
				if err := c.Modify(m); err != nil {
					t.Fatal(err)
				}
				// A disable: userAccountControl gets ACCOUNTDISABLE.
				m = goldap.NewModifyRequest(dns[1], nil)
				m.Replace("userAccountControl", []string{"546"})
				if err := c.Modify(m); err != nil {
					t.Fatal(err)
				}
			}
			// A delete.
			if err := c.Del(goldap.NewDelRequest(dns[2], nil)); err != nil {
				t.Fatal(err)
			}

			r := syncJSON(t, exitOK, args...)
			wantDisabled := 1 // the deleted user
			if d == labenv.AD {
				wantDisabled = 2 // and the one disabled in AD
			}
			if r.Run.Renamed != 1 || r.Run.Created != 0 || r.Run.Disabled != wantDisabled || r.Run.Deleted != 0 {
				t.Fatalf("second sync: %s", counts(r.Run))
			}
			code, out, _ := runCLI(t, nil, "users", "show", "-data", data, login("renamed00"))
			if code != exitOK || !strings.Contains(out, "former logins  "+login("mover00")) {
				t.Fatalf("the renamed user is not the same roster user with its old login as alias:\n%s", out)
			}
			if code, out, _ = runCLI(t, nil, "users", "show", "-data", data, login("mover00")); code != exitOK || !strings.Contains(out, login("renamed00")) {
				t.Fatalf("the old login does not find the user:\n%s", out)
			}
			code, out, _ = runCLI(t, nil, "users", "show", "-data", data, login("mover02"))
			if code != exitOK || !strings.Contains(out, "disabled: missing, missing from the directory since") {
				t.Fatalf("the deleted user is not disabled as missing:\n%s", out)
			}
			if d == labenv.AD {
				if _, out, _ = runCLI(t, nil, "users", "show", "-data", data, login("mover01")); !strings.Contains(out, "disabled: directory") {
					t.Fatalf("the user disabled in AD is not disabled in roster:\n%s", out)
				}
			}
		})
	}
}

func TestMassRemovalIsHeldUntilApproved(t *testing.T) {
	env := labenv.Require(t)
	c := env.Admin(t, labenv.OpenLDAP)
	base := testBase(t, env, c, labenv.OpenLDAP)
	var dns []string
	for i := 0; i < 25; i++ {
		dns = append(dns, addUser(t, c, labenv.OpenLDAP, base, fmt.Sprintf("mass%02d", i)))
	}
	data := t.TempDir()
	args := syncArgs(env, labenv.OpenLDAP, data, "mass", base)
	syncJSON(t, exitOK, args...)
	for _, dn := range dns[:12] {
		if err := c.Del(goldap.NewDelRequest(dn, nil)); err != nil {
			t.Fatal(err)
		}
	}
	r := syncJSON(t, exitHeld, args...)
	if r.Run.Status != roster.RunHeld || r.Run.Held != 12 || r.Run.Disabled != 0 {
		t.Fatalf("12 of 25 gone: %s, status %s; want the removals held", counts(r.Run), r.Run.Status)
	}
	code, out, _ := runCLI(t, nil, "runs", "show", "-data", data, fmt.Sprint(r.Run.ID))
	if code != exitOK || !strings.Contains(out, "held removals (12 users)") || !strings.Contains(out, "mass03") {
		t.Fatalf("runs show does not list the held removals:\n%s", out)
	}
	r = syncJSON(t, exitOK, append(args, "-approve-removals")...)
	if r.Run.Disabled != 12 || r.Run.Status != roster.RunSucceeded {
		t.Fatalf("approved: %s, status %s", counts(r.Run), r.Run.Status)
	}
}

func TestACutConnectionRemovesNobody(t *testing.T) {
	env := labenv.Require(t)
	data := t.TempDir()
	args := syncArgs(env, labenv.AD, data, "cut", "")
	first := syncJSON(t, exitOK, args...)
	proxy := loopbackProxy(t, strings.TrimPrefix(env.Get("LAB_AD_LDAPS_URL"), "ldaps://"), 200_000, 0)
	cut := append([]string(nil), args...)
	for i := range cut {
		if cut[i] == "-address" {
			cut[i+1] = proxy
		}
	}
	r := syncJSON(t, exitFailure, cut...)
	if r.Run.Status != roster.RunFailed || r.Run.Disabled != 0 || r.Run.Deleted != 0 || r.Run.Seen >= first.Run.Seen {
		t.Fatalf("cut run: %s, status %s, error %q", counts(r.Run), r.Run.Status, r.Run.Error)
	}
	code, out, _ := runCLI(t, nil, "users", "-data", data, "-disabled", "-n", "1")
	wantDisabled := len(env.Data(t, labenv.AD).DisabledLogins())
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("of %d users", wantDisabled)) {
		t.Fatalf("after a cut run, only the %d users disabled in AD may be disabled:\n%s", wantDisabled, out)
	}
	if code, out, _ = runCLI(t, nil, "runs", "-data", data); code != exitOK || !strings.Contains(out, "failed") {
		t.Fatalf("the failed run is not recorded:\n%s", out)
	}
}

func TestSyncErrorsSpeakToAdmins(t *testing.T) {
	env := labenv.Require(t)
	data := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "Wrong-Pw-1")
	args := syncArgs(env, labenv.AD, data, "errs", "")
	for i := range args {
		if args[i] == "-password-file" {
			args[i+1] = pw
		}
	}
	code, _, errOut := runCLI(t, nil, args...)
	if code != exitFailure || !strings.Contains(errOut, "wrong password") || !strings.Contains(errOut, "AD code 52e") {
		t.Fatalf("wrong password = %d %q", code, errOut)
	}
	noCA := syncArgs(env, labenv.AD, data, "errs", "")
	for i := range noCA {
		if noCA[i] == "-ca" {
			noCA = append(noCA[:i], noCA[i+2:]...)
			break
		}
	}
	code, _, errOut = runCLI(t, nil, noCA...)
	if code != exitFailure || !strings.Contains(errOut, "is not trusted") || !strings.Contains(errOut, "SHA-256 ") || !strings.Contains(errOut, "-pin-sha256") {
		t.Fatalf("unknown CA = %d %q", code, errOut)
	}
	code, out, _ := runCLI(t, nil, "runs", "-data", data)
	if code != exitOK || strings.Count(out, "failed") < 2 {
		t.Fatalf("the failed attempts are not recorded:\n%s", out)
	}
}

func TestBadEntriesAreSkippedAndListed(t *testing.T) {
	env := labenv.Require(t)
	data := t.TempDir()
	// Logins made from mail: the lab has users without mail and two
	// users sharing one mailbox.
	r := syncJSON(t, exitOK, append(syncArgs(env, labenv.AD, data, "mail", ""), "-login-format", "mail")...)
	msgs := ""
	for _, ee := range r.Run.EntryErrors {
		msgs += ee.Message + "\n"
	}
	if r.Run.Status != roster.RunSucceeded || r.Run.Failed < 3 ||
		!strings.Contains(msgs, "has no mail, which the login is made from") || !strings.Contains(msgs, "shared.mailbox@corp.test is also the login of another entry") {
		t.Fatalf("%s\n%s", counts(r.Run), msgs)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := osWriteFile(path, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestDryRunCreatesNoFilesAndSyncKeepsThemPrivate(t *testing.T) {
	env := labenv.Require(t)
	data := filepath.Join(t.TempDir(), "data")
	tmp := t.TempDir() // where the plan is spooled
	t.Setenv("TMPDIR", tmp)
	code, out, errOut := runCLI(t, nil, append(syncArgs(env, labenv.AD, data, "dry", ""), "-dry-run")...)
	if code != exitOK || !strings.Contains(out, "PLAN (dry run") {
		t.Fatalf("dry run = %d\n%s%s", code, out, errOut)
	}
	if entries, err := os.ReadDir(data); err == nil && len(entries) > 0 {
		t.Fatalf("a dry run wrote %d files into the data folder", len(entries))
	}
	// The plan lists every create it counts, from its spool.
	var creates int
	listed := len(regexp.MustCompile(`(?m)^  create  \S`).FindAllString(out, -1))
	if _, err := fmt.Sscanf(out[strings.Index(out, "  create "):], "  create %d", &creates); err != nil || creates < 100 ||
		listed != creates || !strings.Contains(out, fmt.Sprintf("Create (%d):", creates)) {
		t.Fatalf("the plan counts %d creates (%v) and lists %d:\n%.2000s", creates, err, listed, out)
	}
	code, out, errOut = runCLI(t, nil, append(syncArgs(env, labenv.AD, data, "dry", ""), "-dry-run", "-json")...)
	var plan struct {
		DryRun  bool             `json:"dry_run"`
		Run     roster.Run       `json:"run"`
		Changes []map[string]any `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &plan); code != exitOK || err != nil || !plan.DryRun || plan.Run.Created != creates || len(plan.Changes) != creates ||
		plan.Changes[0]["kind"] != "create" || plan.Changes[0]["login"] == "" {
		t.Fatalf("dry run -json = %d, %v: dry_run %v, %d created, %d changes (the first %v)\n%s", code, err, plan.DryRun, plan.Run.Created, len(plan.Changes), plan.Changes[:min(1, len(plan.Changes))], errOut)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Fatalf("the dry runs left %s in TMPDIR", entries[0].Name())
	}
	syncJSON(t, exitOK, syncArgs(env, labenv.AD, data, "dry", "")...)
	for _, f := range []string{"roster.db", "print-code.key"} {
		if m := mode(t, filepath.Join(data, f)); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", f, m)
		}
	}
	code, out, _ = runCLI(t, nil, "users", "show", "-data", data, "-json", "test-user")
	if code != exitOK || strings.Contains(out, "PrintCodeHash") || !strings.Contains(out, `"print_code_set": true`) {
		t.Fatalf("users show -json must say the code is set and never give its hash:\n%s", out)
	}
}

func TestSyncRefusesFlagsBesideAConfigAndConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "roster.json")
	writeFile(t, cfg, `{"sources": [{"name": "x", "type": "openldap", "address": "127.0.0.1:1", "domain": "example.test", "login": "uid=a,dc=example,dc=test", "password": "pw"}]}`)
	code, _, errOut := runCLI(t, nil, "sync", "-config", cfg, "-removal", "delete")
	if code != exitUsage || !strings.Contains(errOut, "-removal cannot be combined with -config") {
		t.Fatalf("sync -config -removal = %d %q", code, errOut)
	}
	release, err := datadir.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	code, _, errOut = runCLI(t, nil, "sync", "-config", cfg, "-data", dir)
	if code != exitUsage || !strings.Contains(errOut, "another roster sync is running") {
		t.Fatalf("a second sync on a locked folder = %d %q", code, errOut)
	}
}
