package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster"
)

// AdminCount returns how many console admins exist.
func (db *DB) AdminCount(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM admins`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count admins: %w", err)
	}
	return n, nil
}

// CreateAdmin stores a new admin with a password hash.
//
// Errors: ECONFLICT when the name is taken.
func (db *DB) CreateAdmin(ctx context.Context, name, passwordHash string) (*roster.Admin, error) {
	now := db.now()
	var id int64
	err := db.db.QueryRowContext(ctx, `INSERT INTO admins (name, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`, name, passwordHash, timeValue(now), timeValue(now)).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, roster.Errorf(roster.ECONFLICT, "an admin named %s exists already", name)
	case err != nil:
		return nil, fmt.Errorf("store: create admin: %w", err)
	}
	return &roster.Admin{ID: id, Name: name, CreatedAt: now}, nil
}

// AdminByName returns an admin and its password hash.
//
// Errors: ENOTFOUND when there is no such admin.
func (db *DB) AdminByName(ctx context.Context, name string) (*roster.Admin, string, error) {
	a := &roster.Admin{Name: name}
	var hash string
	err := db.db.QueryRowContext(ctx, `SELECT id, password_hash, created_at FROM admins WHERE name = ?`, name).
		Scan(&a.ID, &hash, timeCol{&a.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", roster.Errorf(roster.ENOTFOUND, "no admin is named %s", name)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: admin %s: %w", name, err)
	}
	return a, hash, nil
}

// SetAdminPassword replaces an admin's password hash and ends all of the
// admin's sessions but keep, the one that made the change.
func (db *DB) SetAdminPassword(ctx context.Context, adminID int64, passwordHash, keepSessionHash string) error {
	return db.inTx(ctx, "set admin password", func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = ?, updated_at = ? WHERE id = ?`,
			passwordHash, timeValue(db.now()), adminID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE admin_id = ? AND id_hash <> ?`, adminID, keepSessionHash)
		return err
	})
}

// CreateSession stores a session under the hash of its ID.
func (db *DB) CreateSession(ctx context.Context, idHash string, adminID int64, csrf string, expires time.Time) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, admin_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		idHash, adminID, csrf, timeValue(db.now()), timeValue(expires))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// Session returns the admin and CSRF token of a live session.
//
// Errors: ENOTFOUND when the session does not exist or has expired.
func (db *DB) Session(ctx context.Context, idHash string) (*roster.Admin, string, error) {
	a := &roster.Admin{}
	var csrf string
	var expires time.Time
	err := db.db.QueryRowContext(ctx, `SELECT a.id, a.name, a.created_at, s.csrf, s.expires_at
		FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.id_hash = ?`, idHash).
		Scan(&a.ID, &a.Name, timeCol{&a.CreatedAt}, &csrf, timeCol{&expires})
	if errors.Is(err, sql.ErrNoRows) || err == nil && !db.now().Before(expires) {
		return nil, "", roster.Errorf(roster.ENOTFOUND, "the session has ended; sign in again")
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: session: %w", err)
	}
	return a, csrf, nil
}

// DeleteSession ends a session; ending an unknown one is not an error.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ? OR expires_at < ?`, idHash, timeValue(db.now()))
	return err
}

// CreateToken stores an API token under the hash of its secret.
func (db *DB) CreateToken(ctx context.Context, name, secretHash string, scope roster.Scope) (*roster.Token, error) {
	now := db.now()
	var id int64
	err := db.db.QueryRowContext(ctx, `INSERT INTO api_tokens (name, secret_hash, scope, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		name, secretHash, string(scope), timeValue(now)).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("store: create token: %w", err)
	}
	return &roster.Token{ID: id, Name: name, Scope: scope, CreatedAt: now}, nil
}

// tokenUseResolution is how precisely a token's last use is kept.
const tokenUseResolution = time.Minute

// TokenBySecretHash returns the live token with this secret hash and
// notes its use.
//
// Errors: ENOTFOUND for an unknown or revoked token.
func (db *DB) TokenBySecretHash(ctx context.Context, secretHash string) (*roster.Token, error) {
	t := &roster.Token{}
	var scope string
	err := db.db.hotQueryRow(ctx, `SELECT id, name, scope, created_at, last_used_at FROM api_tokens
		WHERE secret_hash = ? AND revoked_at IS NULL`, secretHash).
		Scan(&t.ID, &t.Name, &scope, timeCol{&t.CreatedAt}, timeCol{&t.LastUsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENOTFOUND, "the API token is unknown or revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("store: token: %w", err)
	}
	t.Scope = roster.Scope(scope)
	// Noting the use is best effort, once a minute at most, and in the
	// background: a print terminal calls many times a second, and every
	// note is a write, which on SQLite waits for a sync's write
	// transaction. The request does not wait for it.
	if now := db.now(); now.Sub(t.LastUsedAt) >= tokenUseResolution {
		if _, busy := db.noting.LoadOrStore(t.ID, true); !busy {
			db.notes.Add(1)
			go func(id int64) {
				defer db.notes.Done()
				defer db.noting.Delete(id)
				nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				db.db.ExecContext(nctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, timeValue(now), id)
			}(t.ID)
		}
	}
	return t, nil
}

// Tokens lists every token, revoked ones included, newest first.
func (db *DB) Tokens(ctx context.Context) ([]*roster.Token, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []*roster.Token
	for rows.Next() {
		t := &roster.Token{}
		var scope string
		if err := rows.Scan(&t.ID, &t.Name, &scope, timeCol{&t.CreatedAt}, timeCol{&t.LastUsedAt}, timeCol{&t.RevokedAt}); err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		t.Scope = roster.Scope(scope)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token at once.
//
// Errors: ENOTFOUND when no live token has this ID.
func (db *DB) RevokeToken(ctx context.Context, id int64) error {
	res, err := db.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, timeValue(db.now()), id)
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENOTFOUND, "no live API token has the ID %d", id)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }
