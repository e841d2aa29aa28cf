package datadir

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/rosterhq/roster"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a second lock is refused, as a conflict that names the folder", func(t *testing.T) {
		_, err := Lock(dir)
		if !errors.Is(err, ErrLocked) || roster.ErrorCode(err) != roster.ECONFLICT || !bytes.Contains([]byte(roster.ErrorMessage(err)), []byte(dir)) {
			t.Fatalf("second Lock = %v (%s)", err, roster.ErrorCode(err))
		}
	})
	t.Run("the lock is free again once released", func(t *testing.T) {
		release()
		again, err := Lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		again()
	})
	t.Run("a folder that cannot hold the lock is an error, not a conflict", func(t *testing.T) {
		_, err := Lock(filepath.Join(dir, "missing"))
		if err == nil || errors.Is(err, ErrLocked) {
			t.Fatalf("Lock in a missing folder = %v", err)
		}
	})
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	t.Run("without create a missing key is a throwaway, and nothing is written", func(t *testing.T) {
		k, err := KeyFile(path, "test key", false)
		if err != nil || len(k) != 32 {
			t.Fatalf("%d bytes, %v", len(k), err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a key file was written: %v", err)
		}
	})
	t.Run("with create the key is made private and read back the same", func(t *testing.T) {
		k1, err := KeyFile(path, "test key", true)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", fi, err)
		}
		k2, err := KeyFile(path, "test key", true)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("read back a different key: %v", err)
		}
	})
	t.Run("a key of the wrong size is damaged, and said so", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.key")
		os.WriteFile(bad, []byte("short"), 0o600)
		if _, err := KeyFile(bad, "test key", true); err == nil || !bytes.Contains([]byte(err.Error()), []byte("damaged")) {
			t.Fatalf("KeyFile on a 5-byte key = %v", err)
		}
	})
}

func TestPrintCodeHasher(t *testing.T) {
	dir := t.TempDir()
	h1, err := PrintCodeHasher(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := PrintCodeHasher(dir, true)
	other, _ := PrintCodeHasher(t.TempDir(), true)
	if h1("123456") != h2("123456") || h1("123456") == h1("123457") || h1("123456") == other("123456") {
		t.Fatal("the hash is not keyed by the folder's key alone")
	}
	// It is HMAC-SHA-256 under the key, in hex, however often and from
	// however many goroutines it is called (its HMACs are reused).
	key, err := os.ReadFile(filepath.Join(dir, PrintCodeKeyName))
	if err != nil {
		t.Fatal(err)
	}
	want := func(code string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(code))
		return hex.EncodeToString(m.Sum(nil))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				code := strconv.Itoa(g*1000 + i)
				if got := h1(code); got != want(code) {
					errs <- fmt.Sprintf("hash of %s = %s, want %s", code, got, want(code))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestWriteFileNeverReplacesUnlessAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(path, []byte("one"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o600, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write = %v; want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Fatalf("the file holds %q", b)
	}
	if err := WriteFile(path, []byte("two"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Fatalf("after replace the file holds %q", b)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".roster-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
