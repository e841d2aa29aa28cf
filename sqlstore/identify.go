package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rosterhq/roster"
)

// UserByCard returns the user holding the card number, with that card
// (its kind and expiry) as its only card, in one query: a print terminal
// asks for it at every badge, and decides itself whether an expired card
// or a disabled user may pass. Aliases are not loaded. Numbers match
// exactly, as the source's card transform left them.
//
// Errors: ENOTFOUND when no user holds the card.
func (db *DB) UserByCard(ctx context.Context, number string) (*roster.User, error) {
	var kind, origin string
	card := roster.Card{Number: number}
	row := db.db.hotQueryRow(ctx, `SELECT `+userColumns+`, c.kind, c.origin, c.expires_at FROM users u
		JOIN cards c ON c.user_id = u.id WHERE c.number = ?`, number)
	u, err := scanUser(alsoScan{row, []any{&kind, &origin, timeCol{&card.ExpiresAt}}})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, roster.Errorf(roster.ENOTFOUND, "no user holds this card")
	case err != nil:
		return nil, fmt.Errorf("store: user by card: %w", err)
	}
	card.Kind, card.Origin = roster.CardKind(kind), roster.CardOrigin(origin)
	u.Cards = []roster.Card{card}
	return u, nil
}

// alsoScan scans a row into scanUser's columns and then into more.
type alsoScan struct {
	row  interface{ Scan(...any) error }
	more []any
}

func (a alsoScan) Scan(dest ...any) error { return a.row.Scan(append(dest, a.more...)...) }

// UsersByPrintCodeHash returns the users whose print code has this keyed
// hash: one, normally. Codes from a directory may repeat, and the caller
// must then refuse rather than pick one. Aliases and cards are not loaded.
func (db *DB) UsersByPrintCodeHash(ctx context.Context, hash string) ([]*roster.User, error) {
	if hash == "" {
		return nil, nil
	}
	users, err := queryUsersOnly(ctx, hotQuerier{db.db}, `SELECT `+userColumns+` FROM users u WHERE u.print_code_hash = ? ORDER BY u.id LIMIT 10`, hash)
	if err != nil {
		return nil, fmt.Errorf("store: users by print code: %w", err)
	}
	return users, nil
}

// SetPrintCodeHash gives a user a new print code, as its keyed hash. A
// directory that holds the user's code overrides it at the next sync.
//
// Errors: ENOTFOUND when no user has the ID; ECONFLICT when another user
// has the same code.
func (db *DB) SetPrintCodeHash(ctx context.Context, userID int64, hash string) error {
	_, err := db.setPrintCodeHash(ctx, userID, hash, false)
	return err
}

// SetFirstPrintCodeHash gives a user who has no print code one, as its
// keyed hash: a bulk generation. It sets nothing, and says so (false),
// when the user has a code by now, from another admin or a sync.
//
// Errors: ENOTFOUND when no user has the ID; ECONFLICT when another user
// has the same code.
func (db *DB) SetFirstPrintCodeHash(ctx context.Context, userID int64, hash string) (bool, error) {
	return db.setPrintCodeHash(ctx, userID, hash, true)
}

func (db *DB) setPrintCodeHash(ctx context.Context, userID int64, hash string, first bool) (set bool, err error) {
	err = db.inTx(ctx, "set print code", func(t *tx) error {
		if db.d.PrintCodeLock != "" {
			if _, err := t.ExecContext(ctx, db.d.PrintCodeLock); err != nil {
				return fmt.Errorf("store: set print code: %w", err)
			}
		}
		var n int
		if err := t.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE print_code_hash = ? AND id <> ?`, hash, userID).Scan(&n); err != nil {
			return fmt.Errorf("store: set print code: %w", err)
		}
		if n > 0 {
			return roster.Errorf(roster.ECONFLICT, "another user has this print code")
		}
		res, err := t.ExecContext(ctx, `UPDATE users SET print_code_hash = ?, updated_at = ? WHERE id = ? AND (? = 0 OR print_code_hash = '')`,
			hash, timeValue(db.now()), userID, boolInt(first))
		if err != nil {
			return fmt.Errorf("store: set print code: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			set = true
			return nil
		}
		var exists int
		if err := t.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, userID).Scan(&exists); err != nil {
			return fmt.Errorf("store: set print code: %w", err)
		}
		if exists == 0 {
			return errUserNotFound("SetPrintCodeHash", userID)
		}
		return nil // it has a code by now
	})
	return set, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// UsersWithoutPrintCode returns the enabled users of a source that have no
// print code, by login: those a bulk generation gives one. Cards and
// aliases are not loaded.
func (db *DB) UsersWithoutPrintCode(ctx context.Context, sourceID int64) ([]*roster.User, error) {
	users, err := queryUsersOnly(ctx, db.db, `SELECT `+userColumns+` FROM users u
		WHERE u.source_id = ? AND u.print_code_hash = '' AND u.disabled = ? ORDER BY u.login, u.id`, sourceID, false)
	if err != nil {
		return nil, fmt.Errorf("store: users without a print code: %w", err)
	}
	return users, nil
}
