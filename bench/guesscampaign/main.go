// Command guesscampaign measures how many wrong guesses a roster serve
// answers to print terminals: the attack of issue 13, one token or
// several, sweeping card numbers or print codes as fast as they go. It
// starts the given roster binary on loopback with an empty data folder
// for each case, so that every case meets fresh budgets; bench/guessing
// runs it.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const adminPassword = "Guess-Campaign-Admin-1"

func main() {
	bin := flag.String("roster", "bin/roster", "the roster binary to measure")
	seconds := flag.Int("seconds", 20, "how long each case sweeps")
	flag.Parse()
	fmt.Printf("%-6s %-7s %10s %10s %12s %14s\n", "guess", "tokens", "answered", "refused", "answered/s", "at that rate/day")
	for _, kind := range []string{"card", "code"} {
		for _, tokens := range []int{1, 5} {
			answered, refused, err := sweep(*bin, kind, tokens, time.Duration(*seconds)*time.Second)
			if err != nil {
				fmt.Fprintln(os.Stderr, "guesscampaign:", err)
				os.Exit(1)
			}
			rate := float64(answered) / float64(*seconds)
			fmt.Printf("%-6s %-7d %10d %10d %12.1f %14.0f\n", kind, tokens, answered, refused, rate, rate*86400)
		}
	}
}

// sweep runs one case: a fresh roster serve, tokens terminal tokens, each
// sending unknown cards or codes one after another for d.
func sweep(bin, kind string, tokens int, d time.Duration) (answered, refused int64, err error) {
	data, err := os.MkdirTemp("", "guesscampaign-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(data)
	cmd := exec.Command(bin, "serve", "-listen", "127.0.0.1:0", "-data", data)
	cmd.Env = append(os.Environ(), "ROSTER_ADMIN_PASSWORD="+adminPassword, "ROSTER_LOG_LEVEL=error")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base, err := listening(out, 30*time.Second)
	if err != nil {
		return 0, 0, err
	}
	secrets, err := makeTokens(base, tokens)
	if err != nil {
		return 0, 0, err
	}
	var a, r atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i, secret := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for n := 0; time.Now().Before(end) && n < 10_000_000; n++ {
				value := fmt.Sprintf("%d%09d", i+1, n)
				if kind == "code" {
					value = fmt.Sprintf("%06d", (i*1_000_003+n*7919)%1_000_000)
				}
				b, _ := json.Marshal(map[string]string{kind: value})
				req, _ := http.NewRequest("POST", base+"/api/v1/identify", bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+secret)
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusNotFound, http.StatusOK, http.StatusConflict, http.StatusForbidden:
					a.Add(1) // the server looked the guess up and said how it went
				default:
					r.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return a.Load(), r.Load(), nil
}

func listening(out io.Reader, within time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for s.Scan() {
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return base, nil
	case <-time.After(within):
		return "", fmt.Errorf("roster serve did not start within %s", within)
	}
}

func makeTokens(base string, n int) ([]string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	call := func(path string, body any, csrf string) (map[string]any, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("%s: %d %v", path, resp.StatusCode, m)
		}
		return m, nil
	}
	m, err := call("/api/v1/login", map[string]string{"name": "admin", "password": adminPassword}, "")
	if err != nil {
		return nil, err
	}
	csrf, _ := m["csrf_token"].(string)
	var secrets []string
	for i := 0; i < n; i++ {
		m, err := call("/api/v1/tokens", map[string]string{"name": fmt.Sprintf("terminal %d", i), "scope": "terminal"}, csrf)
		if err != nil {
			return nil, err
		}
		s, _ := m["secret"].(string)
		if !strings.HasPrefix(s, "roster_") {
			return nil, fmt.Errorf("token %d: %v", i, m)
		}
		secrets = append(secrets, s)
	}
	return secrets, nil
}
