package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
)

// TestMain lets a test start roster as a process of its own: the test
// binary, run with ROSTER_TEST_MAIN=1, is roster.
func TestMain(m *testing.M) {
	// go test -fuzz starts the test binary again as its fuzzing worker,
	// with this process's environment: that one must run the tests, not
	// roster (it ran roster, and FuzzConfig never started).
	if os.Getenv("ROSTER_TEST_MAIN") == "1" && !slices.Contains(os.Args[1:], "-test.fuzzworker") {
		main()
		return
	}
	// A roster serve under test runs its syncs in processes of their own:
	// the test binary again, which must then be roster too.
	os.Setenv("ROSTER_TEST_MAIN", "1")
	// Every test runs in a temporary working folder, so that a command
	// given a relative path (a data folder, a -db that is not a URL)
	// writes there and never into the source tree.
	var err error
	if sourceDir, err = os.Getwd(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	work, err := os.MkdirTemp("", "roster-cmd-test-")
	if err == nil {
		err = os.Chdir(work)
	}
	// The testing package reads the fuzz corpus from testdata/fuzz, and
	// writes an input that fails there, in the working folder: the tree's
	// testdata is linked in, or FuzzConfig's kept inputs never ran, and
	// the ones it found went with the temporary folder. (Where no link
	// can be made, Windows without the right, they do not run.)
	if err == nil {
		os.Symlink(filepath.Join(sourceDir, "testdata"), filepath.Join(work, "testdata"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot work in a temporary folder:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.Chdir(sourceDir)
	os.RemoveAll(work)
	os.Exit(code)
}

// sourceDir is the package's folder, where go test started: tests that
// need a file of the tree find it from here.
var sourceDir string

// runCLI runs the command line in-process and returns its exit status and
// output, with the given environment only.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout or stderr
	}{
		{"help lists every command", []string{"help"}, exitOK, "connect"},
		{"-h is help", []string{"-h"}, exitOK, "Commands:"},
		{"no command is a usage error", nil, exitUsage, "Usage: roster COMMAND"},
		{"an unknown command is a usage error", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"help for a command shows its flags", []string{"help", "connect"}, exitOK, "-password-file"},
		{"help for an unknown command is a usage error", []string{"help", "nope"}, exitUsage, `no command "nope"`},
		{"version names roster", []string{"version"}, exitOK, "roster "},
		{"connect without an address is a usage error", []string{"connect", "-login", "x"}, exitUsage, "-address is required"},
		{"connect without a password says where to put it", []string{"connect", "-address", "h", "-domain", "corp.test", "-login", "svc"}, exitUsage, "ROSTER_BIND_PASSWORD"},
		{"an unknown flag is a usage error", []string{"connect", "-bogus"}, exitUsage, "flag provided but not defined"},
		{"serve refuses an unknown sync priority", []string{"serve", "-sync-priority", "fast"}, exitUsage, `"fast" is not idle, low or normal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != tt.wantCode || !strings.Contains(out+errOut, tt.wantOut) {
				t.Fatalf("roster %q = %d, %q %q; want %d mentioning %q", tt.args, code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
}

// -db takes a postgres:// URL or a file, for every command, dry runs
// included; anything else is refused without echoing it, password and all.
func TestStoreLocationsAreCheckedAlike(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "-dry-run", "-source", "corp", "-db", "host=db password=Sekret-1"}, "not as keyword=value pairs"},
		{[]string{"users", "-db", "host=db password=Sekret-1"}, "not as keyword=value pairs"},
		{[]string{"users", "-db", "Postgres://u:Sekret-1@db/roster"}, "not a Postgres:// URL"},
		{[]string{"sync", "-dry-run", "-source", "corp", "-db", "mysql://u:Sekret-1@db/roster"}, "not a mysql:// URL"},
	} {
		code, out, errOut := runCLI(t, map[string]string{"ROSTER_DATA": t.TempDir()}, tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) || strings.Contains(out+errOut, "Sekret-1") {
			t.Errorf("roster %q = %d, %q %q; want a usage error saying %q, without the password", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestConnectRefusesPlainLDAPWithoutAllowInsecure(t *testing.T) {
	env := map[string]string{"ROSTER_BIND_PASSWORD": "pw"}
	code, _, errOut := runCLI(t, env, "connect", "-address", "127.0.0.1", "-tls", "none", "-domain", "corp.test", "-login", "svc")
	if code != exitUsage || !strings.Contains(errOut, "allow-insecure") {
		t.Fatalf("connect -tls none = %d, %q; want a usage error naming -allow-insecure", code, errOut)
	}
}

// labArgs are the founding article's form for each lab directory: type,
// IP address, SSL mode, domain, login, password (from a file).
func labArgs(env *labenv.Env, d labenv.Directory) []string {
	if d == labenv.AD {
		return []string{"-type", "entra-ds", "-address", "127.0.0.1", "-tls", "ldaps", "-domain", env.Get("LAB_AD_DOMAIN"),
			"-login", "svc-print", "-password-file", env.Get("LAB_BIND_PASSWORD_FILE"), "-ca", env.Get("LAB_CA_FILE")}
	}
	return []string{"-type", "openldap", "-address", "127.0.0.1:1389", "-tls", "starttls", "-server-name", env.Get("LAB_OL_SERVER_NAME"),
		"-domain", env.Get("LAB_OL_DOMAIN"), "-base-dn", env.Get("LAB_OL_USERS_DN"),
		"-login", env.Get("LAB_OL_BIND_USER"), "-password-file", env.Get("LAB_BIND_PASSWORD_FILE"), "-ca", env.Get("LAB_CA_FILE")}
}

func TestConnectToTheLabWithTheArticlesForm(t *testing.T) {
	env := labenv.Require(t)
	for _, d := range []labenv.Directory{labenv.AD, labenv.OpenLDAP} {
		t.Run(string(d), func(t *testing.T) {
			wantUsers, wantDisabled := 0, 0
			for _, u := range env.Data(t, d).Users {
				if d == labenv.AD || !u.Service {
					wantUsers++
				}
				if u.Disabled {
					wantDisabled++
				}
			}
			code, out, errOut := runCLI(t, nil, append([]string{"connect"}, labArgs(env, d)...)...)
			if code != exitOK {
				t.Fatalf("connect = %d\n%s%s", code, out, errOut)
			}
			for _, want := range []string{"certificate verified against the trusted CAs", fmt.Sprintf("users       %d under", wantUsers)} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if d == labenv.AD && !strings.Contains(out, fmt.Sprintf("disabled    %d of %d", wantDisabled, wantUsers)) {
				t.Errorf("output lacks the %d disabled users:\n%s", wantDisabled, out)
			}
			if pw := env.Get("LAB_BIND_PASSWORD"); strings.Contains(out+errOut, pw) {
				t.Fatal("the output reveals the password")
			}

			code, out, _ = runCLI(t, nil, append([]string{"connect", "-json"}, labArgs(env, d)...)...)
			var r connectReport
			if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || r.Users != wantUsers || r.Verified != "chain" {
				t.Fatalf("connect -json = %d, users %d, verified %q; want %d users verified by chain\n%s", code, r.Users, r.Verified, wantUsers, out)
			}

			// The users' base twice, the second spelt otherwise: each base
			// counts its users, the total counts each user once.
			base := env.Get("LAB_OL_USERS_DN")
			args := labArgs(env, d)
			if d == labenv.AD {
				base = env.Get("LAB_AD_USERS_DN")
				args = append(args, "-base-dn", base)
			}
			args = append(args, "-base-dn", strings.ReplaceAll(strings.ToUpper(base), ",", ", "))
			code, out, _ = runCLI(t, nil, append([]string{"connect", "-json"}, args...)...)
			r = connectReport{}
			if code != exitOK || json.Unmarshal([]byte(out), &r) != nil || r.Users != wantUsers || len(r.Bases) != 2 || r.Bases[1].Users != wantUsers {
				t.Fatalf("connect -json with the base twice = %d, %d users, bases %+v; want %d in each and in all\n%s", code, r.Users, r.Bases, wantUsers, out)
			}
		})
	}
}

func TestConnectWithAWrongPasswordExplainsAndHidesIt(t *testing.T) {
	env := labenv.Require(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("Wrong-Password-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := labArgs(env, labenv.AD)
	for i := range args {
		if args[i] == "-password-file" {
			args[i+1] = pwFile
		}
	}
	code, out, errOut := runCLI(t, nil, append([]string{"connect"}, args...)...)
	if code != exitFailure || !strings.Contains(errOut, "the directory rejected the login svc-print: wrong password") {
		t.Fatalf("connect with a wrong password = %d, %q", code, errOut)
	}
	if strings.Contains(out+errOut, "Wrong-Password-123") {
		t.Fatal("the output reveals the password")
	}
}

func secret(s string) roster.Secret { return roster.Secret(s) }

func osWriteFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
