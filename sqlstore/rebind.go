package sqlstore

import (
	"context"

	"github.com/rosterhq/roster"
)

// Rebind carries out a move's matches (roster.PlanMove) on the users of
// a source, in one transaction: each matched user takes its Entra ID
// object's ID as anchor and DN, and keeps everything else (login,
// former logins, cards, print code, history). A user whose anchor is no
// longer the one the plan was made from is passed over. The source's
// groups and its cursor go: the next sync reads everything, groups
// included. With settings, the source's new settings are saved in the
// same transaction, as SaveSource saves them: users bound to Entra ID
// under a source that still reads Entra DS would all look gone to its
// next sync, so it is both or neither. It returns how many users were
// rebound.
//
// Errors: those of SaveSource, when settings cannot be saved; nobody is
// rebound then.
func (db *DB) Rebind(ctx context.Context, sourceID int64, matches []roster.MoveMatch, settings *roster.Source) (int, error) {
	var b string
	var sealed []byte
	if settings != nil {
		var err error
		if b, sealed, err = db.sealSource(settings); err != nil {
			return 0, err
		}
	}
	n := 0
	now := timeValue(db.now())
	err := db.inTx(ctx, "rebind users", func(t *tx) error {
		st, err := t.PrepareContext(ctx, `UPDATE users SET anchor = ?, dn = ?, dn_key = ?, fingerprint = 0, updated_at = ?
			WHERE id = ? AND source_id = ? AND anchor = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, m := range matches {
			res, err := st.ExecContext(ctx, m.To, m.To, dnKey(m.To), now, m.UserID, sourceID, m.From)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				n++
			}
		}
		// The groups were the old directory's, under its anchors: the
		// next sync reads the new one's afresh, instead of seeing every
		// group removed (which its threshold would hold).
		if _, err := t.ExecContext(ctx, `DELETE FROM group_members WHERE group_id IN (SELECT id FROM groups WHERE source_id = ?)`, sourceID); err != nil {
			return err
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM groups WHERE source_id = ?`, sourceID); err != nil {
			return err
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM sync_cursors WHERE source_id = ?`, sourceID); err != nil {
			return err
		}
		if settings != nil {
			return saveSource(ctx, t, settings, b, sealed, now)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
