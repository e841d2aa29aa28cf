package backup

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func init() { scryptN = 1 << 10 } // quick in tests; the format records N

func write(t *testing.T, dir string, keys Keys, pass string) []byte {
	t.Helper()
	db := filepath.Join(dir, "src.db")
	os.WriteFile(db, []byte("SQLite format 3\x00 a database"), 0o600)
	var b bytes.Buffer
	m := Manifest{Roster: "test", TakenAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), From: "sqlite x", Migrations: []string{"001_init.sql"}}
	if err := Write(&b, m, db, keys, roster.Secret(pass)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	keys := Keys{"secret.key": bytes.Repeat([]byte{1}, 32), "print-code.key": bytes.Repeat([]byte{2}, 32)}
	file := write(t, dir, keys, "correct horse battery")
	if bytes.Contains(file, keys["secret.key"]) {
		t.Fatal("the key is in the file in the clear")
	}
	out := filepath.Join(dir, "out.db")
	m, got, err := Read(bytes.NewReader(file), out, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got["secret.key"], keys["secret.key"]) || !bytes.Equal(got["print-code.key"], keys["print-code.key"]) || len(got) != 2 {
		t.Fatalf("keys: %v", got)
	}
	if b, _ := os.ReadFile(out); string(b) != "SQLite format 3\x00 a database" || m.Format != Format || m.Roster != "test" || len(m.Keys) != 2 {
		t.Fatalf("database %q, manifest %+v", b, m)
	}
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, Keys{"secret.key": make([]byte, 32)}, "correct horse battery")
	try := func(name string, data []byte, pass string, code string, words string) {
		t.Helper()
		out := filepath.Join(dir, name+".db")
		_, _, err := Read(bytes.NewReader(data), out, roster.Secret(pass))
		if roster.ErrorCode(err) != code || !strings.Contains(roster.ErrorMessage(err), words) {
			t.Errorf("%s: %v; want %s with %q", name, err, code, words)
		}
		if _, err := os.Stat(out); err == nil && code != "" {
			t.Errorf("%s: a refused backup left its database at %s", name, out)
		}
	}
	try("wrong passphrase", file, "wrong horse battery", roster.EUNAUTHORIZED, "passphrase does not open")
	try("cut short", file[:len(file)/2], "correct horse battery", roster.EINVALID, "damaged")
	try("not gzip", []byte("hello"), "correct horse battery", roster.EINVALID, "not a roster backup")
	if err := Write(&bytes.Buffer{}, Manifest{}, filepath.Join(dir, "src.db"), Keys{}, "short"); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("a short passphrase: %v", err)
	}
}
