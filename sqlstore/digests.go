package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/rosterhq/roster"
)

// UserDigests returns the digests of the source's users with these
// anchors, keyed by anchor; missing anchors are absent. It reads the
// anchor index and one narrow row a user: no cards, aliases or extra
// attributes.
func (db *DB) UserDigests(ctx context.Context, sourceID int64, anchors []string) (map[string]roster.UserDigest, error) {
	out := make(map[string]roster.UserDigest, len(anchors))
	for chunk := range slices.Chunk(uniqueArgs(anchors), db.d.lookupBatch()) {
		in, args := db.d.in("anchor", chunk)
		rows, err := db.db.QueryContext(ctx, `SELECT id, anchor, login, fingerprint, disabled, disabled_reason,
			missing_since IS NOT NULL FROM users
			WHERE source_id = ? AND `+in, append([]any{sourceID}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("store: user digests: %w", err)
		}
		for rows.Next() {
			var d roster.UserDigest
			var fp int64
			var reason string
			if err := rows.Scan(&d.ID, &d.Anchor, &d.Login, &fp, &d.Disabled, &reason, &d.Missing); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: user digests: %w", err)
			}
			d.Fingerprint, d.DisabledReason = uint64(fp), roster.DisabledReason(reason)
			out[d.Anchor] = d
		}
		if err := closeRows(rows); err != nil {
			return nil, fmt.Errorf("store: user digests: %w", err)
		}
	}
	return out, nil
}

// SaveFingerprints keeps each fingerprint with its user, in one
// transaction, unless the user is another source's or its fingerprint is
// no longer fp.Was; it writes no other column.
func (db *DB) SaveFingerprints(ctx context.Context, sourceID int64, fps []roster.UserFingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	err := db.inTx(ctx, "save fingerprints", func(t *tx) error {
		if t.d.Arrays {
			ids, sums, was := make([]int64, len(fps)), make([]int64, len(fps)), make([]int64, len(fps))
			for i, fp := range fps {
				ids[i], sums[i], was[i] = fp.ID, int64(fp.Fingerprint), int64(fp.Was)
			}
			_, err := t.ExecContext(ctx, `UPDATE users SET fingerprint = v.fingerprint
				FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS v(id, fingerprint, was)
				WHERE users.id = v.id AND users.source_id = ? AND users.fingerprint = v.was`,
				ids, sums, was, sourceID)
			return err
		}
		st, err := t.PrepareContext(ctx, `UPDATE users SET fingerprint = ? WHERE id = ? AND source_id = ? AND fingerprint = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, fp := range fps {
			if _, err := st.ExecContext(ctx, int64(fp.Fingerprint), fp.ID, sourceID, int64(fp.Was)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save %d fingerprints: %w", len(fps), err)
	}
	return nil
}

// handMark is the fingerprint of a user changed by hand: even, so that
// it matches no entry, and new each time, so that a sync that read the
// user before the change does not save a fingerprint over it.
func handMark() int64 { return rand.Int64() &^ 1 }
