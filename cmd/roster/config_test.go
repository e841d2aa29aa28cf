package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A user filter that does not compile is refused when the configuration
// is read, with the parser's reason, not at the first sync's search.
func TestConfigRefusesAUserFilterThatDoesNotCompile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "roster.json")
	writeFile(t, cfg, `{"sources": [{"name": "x", "type": "openldap", "address": "127.0.0.1:1", "domain": "example.test",
		"login": "uid=a,dc=example,dc=test", "password": "pw", "user_filter": "(department=Sales"}]}`)
	code, _, errOut := runCLI(t, nil, "sync", "-config", cfg, "-data", dir)
	if code != exitUsage || !strings.Contains(errOut, "source x: the user filter") || !strings.Contains(errOut, "unexpected end of filter") {
		t.Fatalf("sync with an unclosed user filter = %d %q, want a usage error giving the parser's reason", code, errOut)
	}
}
