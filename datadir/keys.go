package datadir

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The key files in the data folder. Both are 32 random bytes, mode 0600,
// made on first use.
const (
	PrintCodeKeyName = "print-code.key"
	SecretKeyName    = "secret.key"
)

// PrintCodeHasher returns the keyed hash (HMAC-SHA-256 under
// print-code.key) that print codes are stored under: without the key a
// stolen database does not reveal any code, and a lookup by code still
// works. Without create, a folder with no key gets a throwaway one and
// nothing is written (see KeyFile).
func PrintCodeHasher(dir string, create bool) (func(string) string, error) {
	key, err := KeyFile(filepath.Join(dir, PrintCodeKeyName), "print code key", create)
	if err != nil {
		return nil, err
	}
	// A sync hashes every entry's code: the HMACs are reused, not made
	// anew each time.
	pool := sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	return func(code string) string {
		m := pool.Get().(hash.Hash)
		m.Reset()
		io.WriteString(m, code)
		var sum [sha256.Size]byte
		s := hex.EncodeToString(m.Sum(sum[:0]))
		pool.Put(m)
		return s
	}, nil
}

// KeyFile reads a 32-byte key, or makes one (mode 0600) when there is
// none. Without create, a missing key gives a throwaway one and nothing is
// written (a dry run on a new folder: no stored value can match anyway).
// When two processes make the key at once, both end with the first one's.
// what names the key in errors.
//
// Errors: the file cannot be read, or does not hold 32 bytes (damaged).
func KeyFile(path, what string, create bool) ([]byte, error) {
	key, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if !create {
			return key, nil
		}
		if err := WriteFile(path, key, 0o600, false); err != nil {
			// Made meanwhile by another process: take its key.
			if key, err = os.ReadFile(path); err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, fmt.Errorf("cannot read the %s: %w", what, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the %s %s is damaged (%d bytes, want 32)", what, path, len(key))
	}
	return key, nil
}

// Sealer returns the AES-256-GCM cipher that seals source passwords at
// rest under key (32 bytes: secret.key, or ROSTER_SECRET_KEY).
func Sealer(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
