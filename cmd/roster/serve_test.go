package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/lab/labenv"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// serve starts roster serve in-process and returns its base URL, its
// output, and a stop function that waits for a clean shutdown.
func serve(t *testing.T, env map[string]string, data string) (string, *lockedBuffer, func() int) {
	t.Helper()
	var stderr lockedBuffer
	return serveLogged(t, env, data, &stderr)
}

// serveLogged is serve with the log (stderr) kept in logs.
func serveLogged(t *testing.T, env map[string]string, data string, logs *lockedBuffer) (string, *lockedBuffer, func() int) {
	t.Helper()
	var stdout lockedBuffer
	stderr := logs
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-listen", "127.0.0.1:0", "-data", data}, &stdout, stderr, func(k string) string { return env[k] })
	}()
	addr := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(labenv.Budget(20 * time.Second))
	for time.Now().Before(deadline) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			var once sync.Once
			code := -1
			stop := func() int {
				once.Do(func() {
					cancel()
					select {
					case code = <-done:
					case <-time.After(labenv.Budget(20 * time.Second)):
						t.Fatal("serve did not stop within 20 s of SIGTERM")
					}
				})
				return code
			}
			t.Cleanup(func() { cancel() })
			return m[1], &stdout, stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	t.Fatalf("serve did not start:\n%s%s", stdout.String(), stderr.String())
	return "", nil, nil
}

func TestServeBootstrapsTheAdminAndStopsCleanly(t *testing.T) {
	data := t.TempDir()
	url, out, stop := serve(t, nil, data)
	m := regexp.MustCompile(`with the password (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated admin password shown:\n%s", out.String())
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	body, _ := json.Marshal(map[string]string{"name": "admin", "password": m[1]})
	resp, err = http.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in with the shown password: %v %v", err, resp)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	// The second start keeps the admin and shows no password.
	_, out2, stop2 := serve(t, nil, data)
	if strings.Contains(out2.String(), "password") {
		t.Fatalf("a second start shows a password again:\n%s", out2.String())
	}
	stop2()
}

func TestAdminResetPassword(t *testing.T) {
	data := t.TempDir()
	_, _, stop := serve(t, map[string]string{"ROSTER_ADMIN_PASSWORD": "First-Admin-Password-1"}, data)
	stop()
	code, out, _ := runCLI(t, nil, "admin", "reset-password", "-data", data)
	m := regexp.MustCompile(`is (\S+) \(shown this once\)`).FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("reset-password = %d %q", code, out)
	}
	url, _, stop2 := serve(t, nil, data)
	defer stop2()
	for pw, want := range map[string]int{m[1]: 200, "First-Admin-Password-1": 401} {
		body, _ := json.Marshal(map[string]string{"name": "admin", "password": pw})
		resp, err := http.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != want {
			t.Fatalf("sign-in after the reset = %v %v, want %d", err, resp, want)
		}
	}
	if code, _, errOut := runCLI(t, nil, "admin", "reset-password", "-data", data, "-name", "nobody"); code != exitFailure || !strings.Contains(errOut, "no admin is named nobody") {
		t.Fatalf("reset of an unknown admin = %d %q", code, errOut)
	}
}

func TestServeTakesTheAdminPasswordFromTheEnvironment(t *testing.T) {
	const pw = "From-The-Environment-7"
	url, out, stop := serve(t, map[string]string{"ROSTER_ADMIN_PASSWORD": pw}, t.TempDir())
	defer stop()
	if strings.Contains(out.String(), pw) {
		t.Fatal("the password given in the environment is printed")
	}
	body, _ := json.Marshal(map[string]string{"name": "admin", "password": pw})
	resp, err := http.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v %v", err, resp)
	}
}

// roster serve takes the first admin's password from the unit's
// credential, as the Debian package's unit gives it.
func TestServeTakesTheAdminPasswordFromACredential(t *testing.T) {
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, "admin-password"), []byte("Credential-Admin-Password-1\n"), 0o600)
	url, out, stop := serve(t, map[string]string{"CREDENTIALS_DIRECTORY": creds}, t.TempDir())
	defer stop()
	if !strings.Contains(out.String(), "with the password given") {
		t.Fatalf("serve did not take the credential:\n%s", out.String())
	}
	signIn(t, url, "Credential-Admin-Password-1")
}
