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
//
// The index of print codes holds only codes that are set. The query says
// that the code is not empty, so that SQLite's planner, which cannot see
// that of a parameter, uses the index instead of reading every user.
func (db *DB) UsersByPrintCodeHash(ctx context.Context, hash string) ([]*roster.User, error) {
	if hash == "" {
		return nil, nil
	}
	users, err := queryUsersOnly(ctx, hotQuerier{db.db}, `SELECT `+userColumns+` FROM users u
		WHERE u.print_code_hash = ? AND u.print_code_hash <> '' ORDER BY u.id LIMIT 10`, hash)
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
	return db.inTx(ctx, "set print code", func(t *tx) error {
		if db.d.PrintCodeLock != "" {
			if _, err := t.ExecContext(ctx, db.d.PrintCodeLock); err != nil {
				return fmt.Errorf("store: set print code: %w", err)
			}
		}
		var n int
		if err := t.QueryRowContext(ctx, `SELECT COUNT(*) FROM users
			WHERE print_code_hash = ? AND print_code_hash <> '' AND id <> ?`, hash, userID).Scan(&n); err != nil {
			return fmt.Errorf("store: set print code: %w", err)
		}
		if n > 0 {
			return roster.Errorf(roster.ECONFLICT, "another user has this print code")
		}
		res, err := t.ExecContext(ctx, `UPDATE users SET print_code_hash = ?, fingerprint = ?, updated_at = ? WHERE id = ?`,
			hash, handMark(), timeValue(db.now()), userID)
		if err != nil {
			return fmt.Errorf("store: set print code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errUserNotFound("SetPrintCodeHash", userID)
		}
		return nil
	})
}
