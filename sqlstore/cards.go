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
// naming both logins. Other errors, which roster serve logs whole, name
// the user and not the card: its logs mask card numbers.
func (db *DB) AddCard(ctx context.Context, userID int64, card roster.Card) error {
	if card.Number == "" {
		return errNoCardNumber()
	}
	return db.inTx(ctx, "add card", func(tx *tx) error {
		if err := execAll(ctx, tx, db.d.CardLock); err != nil {
			return fmt.Errorf("store: add a card to user %d: %w", userID, err)
		}
		// The user's row first, written (its fingerprint forgotten): a
		// delete of the user waits for this card, which it then takes
		// along, even while the foreign key is away (DeferIndexes); two
		// cards added at once take turns; and the tables are written in
		// the order a sync's write and a key's build take them (users,
		// then cards), so that neither deadlocks with this.
		login, err := markHandWrite(ctx, tx, userID, timeValue(db.now()))
		if errors.Is(err, sql.ErrNoRows) {
			return errUserNotFound("AddCard", userID)
		}
		if err != nil {
			return fmt.Errorf("store: add a card to user %d: %w", userID, err)
		}
		var owner string
		err = tx.QueryRowContext(ctx, `SELECT u.login FROM cards c JOIN users u ON u.id = c.user_id
			WHERE c.number = ?`, card.Number).Scan(&owner)
		switch {
		case err == nil:
			return errCardTaken("AddCard", card.Number, login, owner)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: add a card to user %d: %w", userID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cards (user_id, number, kind, origin, expires_at)
			VALUES (?, ?, ?, 'manual', ?)`, userID, card.Number, string(card.Kind), timeValue(card.ExpiresAt)); err != nil {
			return fmt.Errorf("store: add a card to user %d: %w", userID, err)
		}
		return nil
	})
}

// RemoveCard takes a card added by hand from the user userID. Directory
// cards follow the directory: they are changed there, not here.
//
// Errors: ENOTFOUND when the user holds no such card; EINVALID when the
// card came from the directory. Other errors name the user, not the
// card, as AddCard's do.
func (db *DB) RemoveCard(ctx context.Context, userID int64, number string) error {
	return db.inTx(ctx, "remove card", func(tx *tx) error {
		notHeld := rosterError("RemoveCard", roster.ENOTFOUND, "user %d holds no card %s", userID, number)
		// The user's row before the card, as AddCard does (see there);
		// a refusal below rolls it back.
		if _, err := markHandWrite(ctx, tx, userID, timeValue(db.now())); errors.Is(err, sql.ErrNoRows) {
			return notHeld
		} else if err != nil {
			return fmt.Errorf("store: remove a card of user %d: %w", userID, err)
		}
		var origin string
		err := tx.QueryRowContext(ctx, `SELECT origin FROM cards WHERE user_id = ? AND number = ?`, userID, number).Scan(&origin)
		if errors.Is(err, sql.ErrNoRows) {
			return notHeld
		}
		if err != nil {
			return fmt.Errorf("store: remove a card of user %d: %w", userID, err)
		}
		if origin != string(roster.CardManual) {
			return rosterError("RemoveCard", roster.EINVALID, "card %s comes from the directory: change it there, and the next sync follows", number)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM cards WHERE user_id = ? AND number = ?`, userID, number); err != nil {
			return fmt.Errorf("store: remove a card of user %d: %w", userID, err)
		}
		return nil
	})
}

// markHandWrite makes the next sync compare the user whole (see
// handMark): a card added or taken by hand may stand in for a directory
// card of the same number, so the stored cards may no longer be those
// the fingerprint stands for. It returns the user's login, or
// sql.ErrNoRows when no user has the ID. The update locks the user's
// row until the transaction ends.
func markHandWrite(ctx context.Context, tx *tx, userID int64, now any) (string, error) {
	var login string
	err := tx.QueryRowContext(ctx, `UPDATE users SET fingerprint = ?, updated_at = ? WHERE id = ? RETURNING login`,
		handMark(), now, userID).Scan(&login)
	return login, err
}
