package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/lab/labenv"
)

// screenshotDir is where the browser test leaves its pictures: the
// directory ROSTER_SCREENSHOTS names, for people who want to look at
// them, else a temporary one (tests write only there).
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("ROSTER_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// browser is a headless chromium driven by chromedp, with the steps a
// browser test takes.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // screenshotDir
}

// maxShotHeight is the tallest page shot whole, in CSS pixels. Chromium
// refuses a capture much beyond 16,384 device pixels ("Page is too
// large"), which the print codes of a 20,000-user lab exceed; a taller
// page is shot as the window shows it.
const maxShotHeight = 12000

// newBrowser starts chromium at base's sign-in page; it stops with the
// test.
func newBrowser(t *testing.T, chromium, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:0],
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	// No timeout on the browser's own context (it would stop the
	// browser); each step runs under a bounded one instead.
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser: give it the unbounded context.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &browser{t, ctx, screenshotDir(t)}
}

// shot saves a screenshot of the whole page under screenshotDir, or of
// the window when the page is taller than maxShotHeight.
func (b *browser) shot(name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		height, err := chromedp.Evaluate[float64](`document.documentElement.scrollHeight`)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		capture := chromedp.FullScreenshot(100)
		if height > maxShotHeight {
			capture = chromedp.CaptureScreenshot()
		}
		png, err := capture(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(b.shots, name), png, 0o644)
	}
}

// text reads the text of the element sel selects.
func (b *browser) text(sel string) string {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, labenv.Budget(30*time.Second))
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// do runs a step's actions. Each step waits for its condition; the
// bound only stops a hang. It is wide: giving a thousand users print
// codes under -race took over a minute on a loaded 2-core machine.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, labenv.Budget(5*time.Minute))
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// The founding article's flow in a real browser (Debian's chromium,
// headless, driven by chromedp) against the lab's Samba AD: sign in, fill
// in the source form as the article does, test and trust the lab
// certificate, preview, synchronize with live progress, find a user.
func TestConsoleInABrowser(t *testing.T) {
	env := labenv.Require(t)
	tools := labenv.RequireCommands(t, "chromium")
	const adminPW = "Browser-Admin-Password-1"
	var logs lockedBuffer
	base, _, stop := serveLogged(t, map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, t.TempDir(), &logs)
	defer stop()
	b := newBrowser(t, tools["chromium"], base)
	type css = chromedp.CSS
	shot, text, do := b.shot, b.text, b.do
	want := strconv.Itoa(len(env.Data(t, labenv.AD).Users))

	do("sign in",
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(css(`#login input[name=password]`)),
		shot("01-sign-in.png"),
		chromedp.SendKeys(css(`#login input[name=password]`), adminPW),
		chromedp.Click(css(`#login button[type=submit]`)),
		chromedp.WaitVisible(css(`a.button[href="/console/sources/new"]`)))
	if got := text("h1"); got != "Directory sources" {
		t.Fatalf("after sign-in the page is %q", got)
	}

	do("fill in the article's form and test",
		chromedp.Navigate(base+"/console/sources/new"),
		chromedp.WaitVisible(css(`#source input[name=name]`)),
		chromedp.SendKeys(css(`#source input[name=name]`), "corp"),
		chromedp.SetValue(css(`#source select[name=type]`), "entra-ds"),
		chromedp.SendKeys(css(`#source input[name=address]`), "127.0.0.1"),
		chromedp.SetValue(css(`#source select[name=tls]`), "ldaps"),
		chromedp.SendKeys(css(`#source input[name=domain]`), "corp.test"),
		chromedp.SendKeys(css(`#source input[name=login]`), "svc-print@corp.test"),
		chromedp.SendKeys(css(`#source input[name=password]`), env.Get("LAB_BIND_PASSWORD")),
		chromedp.Click(css(`#test`)),
		chromedp.WaitVisible(css(`#trust`)),
		shot("02-source-form-untrusted-certificate.png"))
	if got := text("#test-result"); !strings.Contains(got, "*.corp.test") || !strings.Contains(got, "is not trusted") {
		t.Fatalf("the test result does not show the untrusted certificate: %q", got)
	}

	do("trust the certificate", chromedp.Click(css(`#trust`)), chromedp.WaitVisible(css(`#test-verdict.ok`)),
		shot("03-connection-test-passed.png"))
	if got := text("#test-verdict"); !strings.Contains(got, "Connected: "+want+" users") {
		t.Fatalf("after trusting: %q", got)
	}

	do("save, then preview", chromedp.Click(css(`#save`)), chromedp.WaitVisible(css(`#preview`)),
		chromedp.Click(css(`#preview`)), chromedp.WaitVisible(css(`#plan-summary`)), shot("04-preview-plan.png"))
	if got := text("#plan-summary"); !strings.Contains(got, want+" to create") {
		t.Fatalf("preview: %q", got)
	}

	do("synchronize and follow the live progress", chromedp.Click(css(`#sync`)),
		chromedp.WaitVisible(css(`#progress-done`)), shot("05-sync-finished.png"))
	if got := text("#progress-done"); !strings.Contains(got, "succeeded") || !strings.Contains(got, want+" entries") {
		t.Fatalf("sync: %q", got)
	}

	// Codes for the users without one: the enabled ones whose entry holds
	// none, shown once, with a CSV to download.
	noCode := 0
	for _, u := range env.Data(t, labenv.AD).Users {
		if !u.Disabled && u.PrintCode == "" {
			noCode++
		}
	}
	do("print codes for users without one", chromedp.Click(css(`#bulk-codes`)),
		chromedp.WaitVisible(css(`#test-result a[download="print-codes.csv"]`)), shot("06-print-codes.png"))
	if got := text("#test-result h2"); got != strconv.Itoa(noCode)+" new print codes" || noCode == 0 {
		t.Fatalf("bulk print codes: %q; want %d", got, noCode)
	}
	if got := text("#test-result table"); strings.Contains(got, "test-user") {
		t.Fatalf("the codes table lists test-user, who has a code from the directory: %q", got)
	}

	do("find a known user", chromedp.Navigate(base+"/console/users?q=test-user"),
		chromedp.WaitVisible(css(`a[href="/console/users/test-user"]`)), shot("07-users-search.png"),
		chromedp.Click(css(`a[href="/console/users/test-user"]`)), chromedp.WaitVisible(css(`dl.card`)), shot("08-user-page.png"))
	if got := text("dl.card"); !strings.Contains(got, "Test User") || !strings.Contains(got, "Team Finance 1") ||
		!strings.Contains(got, "(set)") || strings.Contains(got, "2580") {
		t.Fatalf("user page: %q", got)
	}

	do("the runs page charts the run", chromedp.Navigate(base+"/console/runs"),
		chromedp.WaitVisible(css(`.chart rect.succeeded`)), shot("09-runs.png"))
	if got := text("table"); !strings.Contains(got, "succeeded") || !strings.Contains(got, want) {
		t.Fatalf("runs page: %q", got)
	}

	// The move of this Entra DS source onto Entra ID (the Graph double
	// with the same people): the plan, then the move.
	g, _, certFile, keyFile, _ := labTenant(t, env)
	do("plan the move to Entra ID",
		chromedp.Navigate(base+"/console/sources/1"),
		chromedp.WaitVisible(css(`#move summary`)),
		chromedp.Click(css(`#move summary`)),
		chromedp.WaitVisible(css(`#source input[name=move_tenant_id]`)),
		chromedp.SendKeys(css(`#source input[name=move_tenant_id]`), entraTenant),
		chromedp.SendKeys(css(`#source input[name=move_client_id]`), entraClient),
		chromedp.SendKeys(css(`#source input[name=move_cert_file]`), certFile),
		chromedp.SendKeys(css(`#source input[name=move_key_file]`), keyFile),
		chromedp.SendKeys(css(`#source input[name=move_authority_host]`), g.URL),
		chromedp.SendKeys(css(`#source input[name=move_graph_host]`), g.URL),
		chromedp.SetValue(css(`#source textarea[name=move_ca_pem]`), string(g.CAPEM())),
		chromedp.Click(css(`#move-plan`)),
		chromedp.WaitVisible(css(`#move-verdict`)), shot("10-move-plan.png"))
	if got := text("#move-verdict"); !strings.Contains(got, "Plan: "+want+" of "+want+" users matched") {
		t.Fatalf("the move's plan: %q (%s)", got, text("#test-result"))
	}
	do("move", chromedp.Click(css(`#move-apply`)), chromedp.WaitNotVisible(css(`#move-apply`)),
		chromedp.WaitVisible(css(`#move-verdict`)), shot("11-moved.png"))
	if got := text("#move-verdict"); !strings.Contains(got, "Moved: "+want+" users rebound") {
		t.Fatalf("the move: %q", got)
	}

	stop()
	if strings.Contains(logs.String(), env.Get("LAB_BIND_PASSWORD")) || strings.Contains(logs.String(), adminPW) {
		t.Fatal("a password reached the log")
	}
}

// The Entra ID form in a real browser, against the Graph double: pick
// "Entra ID (Microsoft Graph)", give the app registration, test (a token
// and the users counted), save, synchronize.
func TestConsoleEntraIDInABrowser(t *testing.T) {
	tools := labenv.RequireCommands(t, "chromium")
	const adminPW = "Browser-Admin-Password-1"
	g, flags, _ := entraLab(t, 300)
	arg := func(name string) string {
		for i, f := range flags {
			if f == name {
				return flags[i+1]
			}
		}
		t.Fatalf("no %s in %q", name, flags)
		return ""
	}
	var logs lockedBuffer
	base, _, stop := serveLogged(t, map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, t.TempDir(), &logs)
	defer stop()
	b := newBrowser(t, tools["chromium"], base)
	type css = chromedp.CSS
	b.do("sign in",
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible(css(`#login input[name=password]`)),
		chromedp.SendKeys(css(`#login input[name=password]`), adminPW),
		chromedp.Click(css(`#login button[type=submit]`)),
		chromedp.WaitVisible(css(`a.button[href="/console/sources/new"]`)))
	b.do("fill in the Entra ID form and test",
		chromedp.Navigate(base+"/console/sources/new"),
		chromedp.WaitVisible(css(`#source input[name=name]`)),
		chromedp.SendKeys(css(`#source input[name=name]`), "school"),
		chromedp.SetValue(css(`#source select[name=type]`), "entra-id"),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) { // SetValue fires no change event
			_, err := chromedp.Evaluate[bool](`document.querySelector("#source select[name=type]").dispatchEvent(new Event("change"))`)(ctx, tg)
			return chromedp.Void{}, err
		},
		chromedp.WaitVisible(css(`#source input[name=graph_tenant_id]`)),
		chromedp.SendKeys(css(`#source input[name=graph_tenant_id]`), entraTenant),
		chromedp.SendKeys(css(`#source input[name=graph_client_id]`), entraClient),
		chromedp.SendKeys(css(`#source input[name=graph_cert_file]`), arg("-cert")),
		chromedp.SendKeys(css(`#source input[name=graph_key_file]`), arg("-key")),
		chromedp.SendKeys(css(`#source input[name=graph_authority_host]`), g.URL),
		chromedp.SendKeys(css(`#source input[name=graph_graph_host]`), g.URL),
		chromedp.SetValue(css(`#source textarea[name=ca_pem]`), string(g.CAPEM())),
		chromedp.Click(css(`#test`)),
		chromedp.WaitVisible(css(`#test-verdict`)),
		b.shot("12-entra-id-connection-test.png"))
	if got := b.text("#test-verdict"); !strings.Contains(got, "Connected: 300 users") {
		t.Fatalf("the Entra ID test: %q (%s)", got, b.text("#test-result"))
	}
	b.do("diagnose", chromedp.Click(css(`#diagnose`)), chromedp.WaitVisible(css(`#diagnosis-verdict`)), b.shot("13-entra-id-diagnosis.png"))
	if got := b.text("#diagnosis-verdict"); got != "Every step passed" {
		t.Fatalf("the diagnosis: %q (%s)", got, b.text("#test-result"))
	}
	b.do("save and synchronize", chromedp.Click(css(`#save`)), chromedp.WaitVisible(css(`#sync`)),
		chromedp.Click(css(`#sync`)), chromedp.WaitVisible(css(`#progress-done`)), b.shot("14-entra-id-sync.png"))
	if got := b.text("#progress-done"); !strings.Contains(got, "succeeded") || !strings.Contains(got, "300 entries") {
		t.Fatalf("the Entra ID sync: %q", got)
	}
}
