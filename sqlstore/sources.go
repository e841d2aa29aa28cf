package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster"
)

// SourceID returns the ID of the source with this name, creating its row
// when there is none yet. Source settings live in the configuration; the
// row only gives users, groups and runs a stable ID to point to.
//
// Errors: EINVALID when name is empty.
func (db *DB) SourceID(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, errNoSourceName()
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO sources (name, created_at) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, name, timeValue(db.now())); err != nil {
		return 0, fmt.Errorf("store: source %s: %w", name, err)
	}
	var id int64
	if err := db.db.QueryRowContext(ctx, `SELECT id FROM sources WHERE name = ?`, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: source %s: %w", name, err)
	}
	return id, nil
}

// LookupSourceID returns the ID of the source with this name without
// creating it, for a dry run, which writes nothing.
//
// Errors: ENOTFOUND when no source has that name.
func (db *DB) LookupSourceID(ctx context.Context, name string) (int64, error) {
	var id int64
	err := db.db.QueryRowContext(ctx, `SELECT id FROM sources WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, roster.Errorf(roster.ENOTFOUND, "no source is named %s", name)
	}
	if err != nil {
		return 0, fmt.Errorf("store: source %s: %w", name, err)
	}
	return id, nil
}

// sealLabel binds sealed passwords to their purpose (AES-GCM's
// additional data): a blob cut from elsewhere will not open as one.
var sealLabel = []byte("roster source password v1")

// SaveSource stores a source's settings, creating it when src.ID is 0
// (and setting src.ID). The password is sealed with db.Sealer; an empty
// password on an existing source keeps the stored one, so a form need
// not send it back, unless the address or trust settings changed
// (roster.TrustChanges): then the stored password is dropped, and the
// source has none until it is entered again.
//
// Errors: ECONFLICT when another source has the name; ENOTFOUND when
// src.ID names no source; EINTERNAL when there is a password to seal and
// no Sealer.
func (db *DB) SaveSource(ctx context.Context, src *roster.Source) error {
	b, sealed, err := db.sealSource(src)
	if err != nil {
		return err
	}
	now := timeValue(db.now())
	return db.inTx(ctx, "save source", func(tx *tx) error { return saveSource(ctx, tx, src, b, sealed, now) })
}

// sealSource returns the source's settings as stored and its password
// sealed (nil when it has none).
func (db *DB) sealSource(src *roster.Source) (settings string, sealed []byte, err error) {
	b, err := encodeSettings(src)
	if err != nil {
		return "", nil, err
	}
	if src.Password.IsSet() {
		if db.Sealer == nil {
			return "", nil, roster.Errorf(roster.EINTERNAL, "no secret key is configured to seal the password")
		}
		nonce := make([]byte, db.Sealer.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return "", nil, err
		}
		sealed = db.Sealer.Seal(nonce, nonce, []byte(src.Password.Reveal()), sealLabel)
	}
	return b, sealed, nil
}

// saveSource is SaveSource's write, inside a transaction.
func saveSource(ctx context.Context, tx *tx, src *roster.Source, b string, sealed []byte, now any) error {
	var other int64
	var configured bool
	err := tx.QueryRowContext(ctx, `SELECT id, settings IS NOT NULL FROM sources WHERE name = ? AND id <> ?`, src.Name, src.ID).Scan(&other, &configured)
	switch {
	case err == nil && (configured || src.ID != 0):
		return roster.Errorf(roster.ECONFLICT, "a source named %s exists already", src.Name)
	case err == nil:
		// The row of a source synced from the command line, or
		// deleted: settings given now take it over, with its users.
		src.ID = other
		_, err := tx.ExecContext(ctx, `UPDATE sources SET settings = ?, password_sealed = ?, updated_at = ? WHERE id = ?`,
			b, sealed, now, other)
		return err
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if src.ID == 0 {
		err := tx.QueryRowContext(ctx, `INSERT INTO sources (name, created_at, settings, password_sealed, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			src.Name, now, b, sealed, now).Scan(&src.ID)
		return err
	}
	keep := `COALESCE(?, password_sealed)`
	if sealed == nil {
		var stored sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT settings FROM sources WHERE id = ?`, src.ID).Scan(&stored)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if stored.Valid {
			if old, err := decodeSettings(src.ID, stored.String); err != nil || len(roster.TrustChanges(old, src)) > 0 {
				keep = `?` // the stored password never goes anywhere new
			}
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE sources SET name = ?, settings = ?, updated_at = ?,
		password_sealed = `+keep+` WHERE id = ? AND settings IS NOT NULL`,
		src.Name, b, now, sealed, src.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENOTFOUND, "no source has the ID %d", src.ID)
	}
	return nil
}

// Source returns a source's settings with its password unsealed.
//
// Errors: ENOTFOUND; EINTERNAL when the password cannot be unsealed (the
// secret key changed).
func (db *DB) Source(ctx context.Context, id int64) (*roster.Source, error) {
	var settings sql.NullString
	var sealed []byte
	var notAfter time.Time
	err := db.db.QueryRowContext(ctx, `SELECT settings, password_sealed, certificate_not_after FROM sources WHERE id = ?`, id).
		Scan(&settings, &sealed, timeCol{&notAfter})
	if errors.Is(err, sql.ErrNoRows) || err == nil && !settings.Valid {
		return nil, roster.Errorf(roster.ENOTFOUND, "no source has the ID %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: source %d: %w", id, err)
	}
	src, err := db.openSource(id, settings.String, sealed)
	if src != nil {
		src.CertificateNotAfter = notAfter
	}
	return src, err
}

// Sources returns every source that has settings, by name.
func (db *DB) Sources(ctx context.Context) ([]*roster.Source, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, settings, password_sealed, certificate_not_after FROM sources WHERE settings IS NOT NULL ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: sources: %w", err)
	}
	defer rows.Close()
	var out []*roster.Source
	for rows.Next() {
		var id int64
		var settings string
		var sealed []byte
		var notAfter time.Time
		if err := rows.Scan(&id, &settings, &sealed, timeCol{&notAfter}); err != nil {
			return nil, fmt.Errorf("store: sources: %w", err)
		}
		src, err := db.openSource(id, settings, sealed)
		if err != nil {
			return nil, err
		}
		src.CertificateNotAfter = notAfter
		out = append(out, src)
	}
	return out, rows.Err()
}

func (db *DB) openSource(id int64, settings string, sealed []byte) (*roster.Source, error) {
	src, err := decodeSettings(id, settings)
	if err != nil {
		return nil, err
	}
	if len(sealed) > 0 {
		if db.Sealer == nil || len(sealed) < db.Sealer.NonceSize() {
			return nil, roster.Errorf(roster.EINTERNAL, "the password of source %s cannot be read: no secret key is configured", src.Name)
		}
		n := db.Sealer.NonceSize()
		pw, err := db.Sealer.Open(nil, sealed[:n], sealed[n:], sealLabel)
		if err != nil {
			return nil, roster.Errorf(roster.EINTERNAL, "the password of source %s cannot be unsealed: the secret key is not the one it was sealed with; enter the password again", src.Name)
		}
		src.Password = roster.Secret(pw)
	}
	return src, nil
}

// DeleteSource erases a source's settings and password. Its users and
// runs stay, for the record.
//
// Errors: ENOTFOUND.
func (db *DB) DeleteSource(ctx context.Context, id int64) error {
	res, err := db.db.ExecContext(ctx, `UPDATE sources SET settings = NULL, password_sealed = NULL, updated_at = ? WHERE id = ? AND settings IS NOT NULL`,
		timeValue(db.now()), id)
	if err != nil {
		return fmt.Errorf("store: delete source: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENOTFOUND, "no source has the ID %d", id)
	}
	return nil
}

// SetSourceCertificate records when the source's directory certificate
// expires, as a test or a sync just saw it. Unchanged, it writes nothing.
func (db *DB) SetSourceCertificate(ctx context.Context, id int64, notAfter time.Time) error {
	v := timeValue(notAfter)
	_, err := db.db.ExecContext(ctx, `UPDATE sources SET certificate_not_after = ? WHERE id = ? AND certificate_not_after IS DISTINCT FROM ?`, v, id, v)
	if err != nil {
		return fmt.Errorf("store: source certificate: %w", err)
	}
	return nil
}
