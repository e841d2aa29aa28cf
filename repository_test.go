package roster_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

// The repository holds source, not what tests or builds leave behind: no
// database, no binary, and no file name that Go's module zip refuses (a
// test once committed "cmd/roster/Postgres:/u:Sekret-1@db/roster", and
// then `go install …@latest` could not work).
func TestRepositoryHoldsOnlySource(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git ls-files: %v", err)
		}
		t.Skipf("not a git checkout (%v)", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 50 {
		t.Fatalf("git ls-files lists %d files; expected the whole tree", len(files))
	}
	for _, f := range files {
		if problem := badFile(f, f); problem != "" {
			t.Errorf("%s: %s; remove it (git rm --cached) and ignore it", f, problem)
		}
	}
}

// badFile says what is wrong with a tracked file, named name in the tree
// and found at path, or "".
func badFile(name, path string) string {
	if err := module.CheckFilePath(name); err != nil {
		return "a name Go's module zip refuses: " + err.Error()
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".db", ".sqlite", ".sqlite3", ".db-wal", ".db-shm", ".exe", ".dll", ".so", ".test", ".deb":
		return "a database or a binary, by its name"
	}
	f, err := os.Open(path)
	if err != nil {
		return "" // listed but deleted in the working tree: git status shows it
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := f.Read(head)
	head = head[:n]
	for _, magic := range []struct{ what, bytes string }{
		{"an SQLite database", "SQLite format 3\x00"},
		{"an ELF binary", "\x7fELF"},
		{"a Windows binary", "MZ"},
		{"a Mach-O binary", "\xcf\xfa\xed\xfe"},
	} {
		if bytes.HasPrefix(head, []byte(magic.bytes)) {
			return magic.what + ", by its content"
		}
	}
	return ""
}

func TestBadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) (string, string) {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return name, p
	}
	if badFile("cmd/roster/Postgres:/u:Sekret-1@db/roster", "/nonexistent") == "" {
		t.Error("a name with ':' passes")
	}
	if badFile("cmd/roster/roster.db", "/nonexistent") == "" {
		t.Error("a .db passes")
	}
	if badFile(write("data", "SQLite format 3\x00 and pages")) == "" {
		t.Error("an SQLite file without its extension passes")
	}
	if badFile(write("roster", "\x7fELF\x02\x01\x01")) == "" {
		t.Error("an ELF binary passes")
	}
	if p := badFile(write("main.go", "package main\n")); p != "" {
		t.Errorf("a Go file: %s", p)
	}
}
