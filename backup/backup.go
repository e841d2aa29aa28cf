// Package backup writes and reads roster's backup files: one gzipped tar
// that holds a consistent copy of the user base (an SQLite database,
// whatever store it came from), the data folder's keys sealed under a
// passphrase the admin gives, and a manifest.
//
// The keys are what make a backup whole: without secret.key the stored
// directory passwords cannot be opened, and without print-code.key no
// print code can be checked. They travel sealed (scrypt, then AES-256-GCM),
// so a backup file left on a share opens neither.
package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/crypto/scrypt"

	"github.com/rosterhq/roster"
)

// Format is the version of the file's layout; Read refuses a newer one.
const Format = 1

// MinPassphrase is the shortest passphrase that seals keys.
const MinPassphrase = 12

// Manifest says what a backup holds.
type Manifest struct {
	Format     int              `json:"format"`
	Roster     string           `json:"roster"` // the version that wrote it
	TakenAt    time.Time        `json:"taken_at"`
	From       string           `json:"from"`       // the store copied, without its password
	Migrations []string         `json:"migrations"` // the schema steps of the copy
	Rows       map[string]int64 `json:"rows"`
	// DatabaseSHA256 is the copy's checksum, checked before a restore.
	DatabaseSHA256 string `json:"database_sha256"`
	// Keys names the keys sealed in the file.
	Keys []string `json:"keys"`
}

// Keys are the data folder's keys, by file name (secret.key,
// print-code.key).
type Keys map[string][]byte

// sealed is the keys' file in the archive.
type sealed struct {
	KDF   string `json:"kdf"` // "scrypt"
	N     int    `json:"n"`
	R     int    `json:"r"`
	P     int    `json:"p"`
	Salt  []byte `json:"salt"`
	Nonce []byte `json:"nonce"`
	Box   []byte `json:"box"` // AES-256-GCM of the keys' JSON
}

// scryptN is the cost of turning a passphrase into a key: about a tenth
// of a second here, so guessing a passphrase offline is slow.
var scryptN = 1 << 15

const (
	manifestName = "manifest.json"
	databaseName = "roster.db"
	keysName     = "keys.sealed"
)

// Write writes a backup to w: the manifest, the database file at dbPath,
// and keys sealed under passphrase. The manifest's checksum and keys are
// filled in here.
func Write(w io.Writer, m Manifest, dbPath string, keys Keys, passphrase roster.Secret) error {
	if n := len([]rune(passphrase.Reveal())); n < MinPassphrase {
		return roster.Errorf(roster.EINVALID, "the backup passphrase has %d characters; use at least %d", n, MinPassphrase)
	}
	box, err := seal(keys, passphrase)
	if err != nil {
		return err
	}
	sum, size, err := fileSum(dbPath)
	if err != nil {
		return err
	}
	m.Format, m.DatabaseSHA256, m.Keys = Format, sum, nil
	for name := range keys {
		m.Keys = append(m.Keys, name)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	add := func(name string, size int64, body io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: m.TakenAt, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, body)
		return err
	}
	db, err := os.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, step := range []error{
		add(manifestName, int64(len(manifest)), bytes.NewReader(manifest)),
		add(keysName, int64(len(box)), bytes.NewReader(box)),
		add(databaseName, size, db),
		tw.Close(),
		zw.Close(),
	} {
		if step != nil {
			return fmt.Errorf("write the backup: %w", step)
		}
	}
	return nil
}

// Read reads a backup from r, writing its database to dbPath (a new
// file), and returns its manifest and its keys, opened with passphrase.
//
// Errors: EINVALID for a file that is not a roster backup, is damaged or
// newer than this roster; EUNAUTHORIZED for a wrong passphrase.
func Read(r io.Reader, dbPath string, passphrase roster.Secret) (Manifest, Keys, error) {
	var m Manifest
	var keys Keys
	zr, err := gzip.NewReader(r)
	if err != nil {
		return m, nil, notABackup(err)
	}
	tr := tar.NewReader(zr)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, nil, notABackup(err)
		}
		if seen[h.Name] {
			return m, nil, roster.Errorf(roster.EINVALID, "the backup holds %s twice; it was not written by roster", h.Name)
		}
		seen[h.Name] = true
		switch h.Name {
		case manifestName:
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
				return m, nil, notABackup(err)
			}
			if m.Format > Format {
				return m, nil, roster.Errorf(roster.EINVALID, "the backup is of format %d, written by roster %s; this roster reads format %d and older: restore it with that version or a newer one", m.Format, m.Roster, Format)
			}
		case keysName:
			var s sealed
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&s); err != nil {
				return m, nil, notABackup(err)
			}
			if keys, err = open(s, passphrase); err != nil {
				return m, nil, err
			}
		case databaseName:
			if !seen[manifestName] || !seen[keysName] {
				return m, nil, roster.Errorf(roster.EINVALID, "the backup's parts are out of order; it was not written by roster")
			}
			if err := writeNew(dbPath, tr, m.DatabaseSHA256); err != nil {
				return m, nil, err
			}
		}
	}
	if !seen[manifestName] || !seen[keysName] || !seen[databaseName] {
		return m, nil, roster.Errorf(roster.EINVALID, "the backup lacks a part (it has manifest %v, keys %v, database %v): it is cut short or not a roster backup",
			seen[manifestName], seen[keysName], seen[databaseName])
	}
	return m, keys, nil
}

func notABackup(err error) error {
	return roster.Errorf(roster.EINVALID, "this is not a roster backup, or it is damaged: %v", err)
}

// writeNew writes body to a new file at path, and checks its SHA-256.
func writeNew(path string, body io.Reader, want string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return notABackup(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		os.Remove(path)
		return roster.Errorf(roster.EINVALID, "the backup's database is damaged: its checksum is %s, the manifest says %s", got, want)
	}
	return nil
}

func seal(keys Keys, passphrase roster.Secret) ([]byte, error) {
	s := sealed{KDF: "scrypt", N: scryptN, R: 8, P: 1, Salt: make([]byte, 16)}
	if _, err := rand.Read(s.Salt); err != nil {
		return nil, err
	}
	gcm, err := passphraseCipher(s, passphrase)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	s.Nonce = make([]byte, gcm.NonceSize())
	if _, err := rand.Read(s.Nonce); err != nil {
		return nil, err
	}
	s.Box = gcm.Seal(nil, s.Nonce, plain, []byte(keysName))
	return json.Marshal(s)
}

func open(s sealed, passphrase roster.Secret) (Keys, error) {
	if s.KDF != "scrypt" || s.N < 1<<10 || s.N > 1<<22 || s.R < 1 || s.R > 32 || s.P < 1 || s.P > 16 {
		return nil, roster.Errorf(roster.EINVALID, "the backup's keys are sealed in a way this roster does not know (%s N=%d r=%d p=%d)", s.KDF, s.N, s.R, s.P)
	}
	gcm, err := passphraseCipher(s, passphrase)
	if err != nil {
		return nil, err
	}
	if len(s.Nonce) != gcm.NonceSize() {
		return nil, notABackup(errors.New("the keys' nonce has the wrong size"))
	}
	plain, err := gcm.Open(nil, s.Nonce, s.Box, []byte(keysName))
	if err != nil {
		return nil, roster.Errorf(roster.EUNAUTHORIZED, "the passphrase does not open this backup's keys: it is not the one given to roster backup")
	}
	var keys Keys
	if err := json.Unmarshal(plain, &keys); err != nil {
		return nil, notABackup(err)
	}
	return keys, nil
}

func passphraseCipher(s sealed, passphrase roster.Secret) (cipher.AEAD, error) {
	key, err := scrypt.Key([]byte(passphrase.Reveal()), s.Salt, s.N, s.R, s.P, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func fileSum(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
