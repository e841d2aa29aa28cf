package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// RekeyDNs recomputes the keys that memberships join on (dnKey, that is
// roster.DNKey): each user's dn_key from its DN, and each membership's
// member key from the one stored, which is itself a DN. Memberships whose
// keys become one are merged. It returns how many rows it rewrote, in one
// transaction.
//
// The schema step that changed the key (009_dn_keys.sql) runs it once;
// groups synced afterwards are keyed alike, so no membership is lost or
// counted as a removal for a change of spelling.
func (db *DB) RekeyDNs(ctx context.Context) (int, error) {
	var n int
	err := db.inTx(ctx, "rekey DNs", func(t *tx) error {
		var err error
		n, err = rekeyDNs(ctx, t)
		return err
	})
	return n, err
}

func rekeyDNs(ctx context.Context, t *tx) (int, error) {
	type userKey struct {
		id  int64
		key string
	}
	var users []userKey
	rows, err := t.QueryContext(ctx, `SELECT id, dn, dn_key FROM users`)
	if err != nil {
		return 0, fmt.Errorf("rekey the users' DNs: %w", err)
	}
	for rows.Next() {
		var u userKey
		var dn, key string
		if err := rows.Scan(&u.id, &dn, &key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("rekey the users' DNs: %w", err)
		}
		if u.key = dnKey(dn); u.key != key {
			users = append(users, u)
		}
	}
	if err := closeRows(rows); err != nil {
		return 0, fmt.Errorf("rekey the users' DNs: %w", err)
	}
	for _, u := range users {
		if _, err := t.ExecContext(ctx, `UPDATE users SET dn_key = ? WHERE id = ?`, u.key, u.id); err != nil {
			return 0, fmt.Errorf("rekey the DN of user %d: %w", u.id, err)
		}
	}

	// Memberships: those whose key changes are dropped, then written
	// under their new key, once per group.
	var old, next []any // group ID, key, ...
	rows, err = t.QueryContext(ctx, `SELECT group_id, user_dn FROM group_members`)
	if err != nil {
		return 0, fmt.Errorf("rekey the members' DNs: %w", err)
	}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return 0, fmt.Errorf("rekey the members' DNs: %w", err)
		}
		if k := dnKey(key); k != key {
			old, next = append(old, id, key), append(next, id, k)
		}
	}
	if err := closeRows(rows); err != nil {
		return 0, fmt.Errorf("rekey the members' DNs: %w", err)
	}
	for chunk := range slices.Chunk(old, 2*memberBatch) {
		// Typed, or PostgreSQL takes every parameter of VALUES for text.
		rows := strings.TrimSuffix(strings.Repeat("(CAST(? AS BIGINT), ?), ", len(chunk)/2), ", ")
		if _, err := t.ExecContext(ctx, `DELETE FROM group_members WHERE (group_id, user_dn) IN (VALUES `+rows+`)`,
			chunk...); err != nil {
			return 0, fmt.Errorf("rekey the members' DNs: %w", err)
		}
	}
	for chunk := range slices.Chunk(next, 2*memberBatch) {
		if _, err := t.ExecContext(ctx, `INSERT INTO group_members (group_id, user_dn) VALUES `+values(len(chunk)/2, 2)+`
			ON CONFLICT DO NOTHING`, chunk...); err != nil {
			return 0, fmt.Errorf("rekey the members' DNs: %w", err)
		}
	}
	return len(users) + len(old)/2, nil
}
