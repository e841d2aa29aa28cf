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
// included. It returns how many users were rebound.
func (db *DB) Rebind(ctx context.Context, sourceID int64, matches []roster.MoveMatch) (int, error) {
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
		_, err = t.ExecContext(ctx, `DELETE FROM sync_cursors WHERE source_id = ?`, sourceID)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
