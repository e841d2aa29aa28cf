package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rosterhq/roster"
)

// AddCard gives the user userID a card added by hand: its Origin is set to
// manual, whatever card.Origin says, and no sync removes it.
//
// Errors: EINVALID when the number is empty; ENOTFOUND when no user has
// this ID; ECONFLICT when the number is already a card of any user,
// naming both logins.
func (db *DB) AddCard(ctx context.Context, userID int64, card roster.Card) error {
	if card.Number == "" {
		return errNoCardNumber()
	}
	return db.inTx(ctx, "add card", func(tx *tx) error {
		var login string
		err := tx.QueryRowContext(ctx, `SELECT login FROM users WHERE id = ?`, userID).Scan(&login)
		if errors.Is(err, sql.ErrNoRows) {
			return errUserNotFound("AddCard", userID)
		}
		if err != nil {
			return fmt.Errorf("store: add card %s: %w", card.Number, err)
		}
		var owner string
		err = tx.QueryRowContext(ctx, `SELECT u.login FROM cards c JOIN users u ON u.id = c.user_id
			WHERE c.number = ?`, card.Number).Scan(&owner)
		switch {
		case err == nil:
			return errCardTaken("AddCard", card.Number, login, owner)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: add card %s: %w", card.Number, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cards (user_id, number, kind, origin, expires_at)
			VALUES (?, ?, ?, 'manual', ?)`, userID, card.Number, string(card.Kind), timeValue(card.ExpiresAt)); err != nil {
			return fmt.Errorf("store: add card %s: %w", card.Number, err)
		}
		return nil
	})
}
