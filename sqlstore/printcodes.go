package sqlstore

// Print codes in bulk (roster.AssignFirstPrintCodes): the users without
// one, the check of many candidate codes at once, and the write of a
// batch in one transaction.

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster"
)

var _ roster.BulkPrintCodeStore = (*DB)(nil)

// UsersWithoutPrintCode returns the enabled users of a source that have no
// print code, in the user base's order (by ID): those a bulk generation
// gives one. Each user has only what the generation writes and shows: its
// ID, source, login, name and email; it reads on the bulk connection,
// whose cache then holds the rows the generation writes.
//
// By ID, not by login: the generation writes batch after batch in this
// order, and rows stored near one another share pages, so each batch
// rewrites its own part of the table. In login order every batch of
// 25,000 touched nearly every page of a 100,000-user table.
func (db *DB) UsersWithoutPrintCode(ctx context.Context, sourceID int64) ([]*roster.User, error) {
	var users []*roster.User
	err := db.bulkRead(ctx, "users without a print code", func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT id, login, name, email FROM users
			WHERE source_id = ? AND print_code_hash = '' AND disabled = ? ORDER BY id`, sourceID, false)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u := &roster.User{SourceID: sourceID}
			if err := rows.Scan(&u.ID, &u.Login, &u.Name, &u.Email); err != nil {
				return err
			}
			users = append(users, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: users without a print code: %w", err)
	}
	return users, nil
}

// PrintCodeHashesTaken returns those of hashes that some user has, of any
// source, disabled or not, as a set: a bulk generation checks its
// candidate codes with it, many in one query.
func (db *DB) PrintCodeHashesTaken(ctx context.Context, hashes []string) (map[string]bool, error) {
	// Each code is looked up in the print-code index: without it (a
	// first sync still writing, or killed), every lookup would read the
	// whole table, and 100,000 codes would hold the write lock for many
	// minutes. A first sync still writing then writes the rest with the
	// indexes in place, as when another sync starts beside it. Foreign
	// keys away are left to that sync: no lookup here needs them.
	if err := db.buildIndexesOnly(ctx); err != nil {
		return nil, err
	}
	taken := make(map[string]bool)
	err := db.bulkRead(ctx, "print codes taken", func(q querier) error {
		for start := 0; start < len(hashes); start += db.d.listBatch() {
			holders, err := printCodeHolders(ctx, q, &db.d, hashes[start:min(start+db.d.listBatch(), len(hashes))])
			if err != nil {
				return err
			}
			for h := range holders {
				taken[h] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: print codes taken: %w", err)
	}
	return taken, nil
}

// SetFirstPrintCodeHashes gives each user who has no print code the hash
// paired with it, all in one transaction (a bulk generation's batch), and
// returns what became of each, in the order of codes:
//
//   - FirstCodeSet: the user had no code, and has this one now;
//   - FirstCodeKept: the user has a code by now, from a sync or an admin,
//     and keeps it;
//   - FirstCodeTaken: another user has this hash; nothing is set, and the
//     caller draws another code;
//   - FirstCodeNoUser: no user has the ID (deleted meanwhile).
//
// Where the dialect has a PrintCodeLock, the transaction takes it first,
// so that a code cannot be found free by two writers at once.
//
// Errors: EINVALID, and nothing set, when a hash is empty or a user ID or
// a hash is listed twice.
func (db *DB) SetFirstPrintCodeHashes(ctx context.Context, codes []roster.FirstPrintCode) ([]roster.FirstCodeResult, error) {
	users := make(map[int64]bool, len(codes))
	hashes := make(map[string]bool, len(codes))
	for _, c := range codes {
		switch {
		case c.Hash == "":
			return nil, errNoPrintCodeHash(c.UserID)
		case users[c.UserID]:
			return nil, errPrintCodeUserTwice(c.UserID)
		case hashes[c.Hash]:
			return nil, errPrintCodeTwice()
		}
		users[c.UserID], hashes[c.Hash] = true, true
	}
	out := make([]roster.FirstCodeResult, len(codes))
	if len(codes) == 0 {
		return out, nil
	}
	if err := db.buildIndexesOnly(ctx); err != nil { // see PrintCodeHashesTaken
		return nil, err
	}
	now := timeValue(db.now())
	err := db.inBulkTx(ctx, "set print codes", func(t *tx) error {
		if db.d.PrintCodeLock != "" {
			if _, err := t.ExecContext(ctx, db.d.PrintCodeLock); err != nil {
				return fmt.Errorf("store: set print codes: %w", err)
			}
		}
		n := db.d.listBatch()
		for start := 0; start < len(codes); start += n {
			end := min(start+n, len(codes))
			if err := setFirstCodes(ctx, t, codes[start:end], out[start:end], now); err != nil {
				return fmt.Errorf("store: set print codes: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setFirstCodes writes codes, at most a listBatch, inside
// SetFirstPrintCodeHashes' transaction, and records in out what became of
// each. The write itself checks that no user has the hash (an index probe
// on pages the write touches anyway); only the codes it did not set are
// looked at again, to say why.
func setFirstCodes(ctx context.Context, t *tx, codes []roster.FirstPrintCode, out []roster.FirstCodeResult, now any) error {
	set, err := updateFirstCodes(ctx, t, codes, now)
	if err != nil {
		return err
	}
	var unset []int
	for i, c := range codes {
		if set[c.UserID] {
			out[i] = roster.FirstCodeSet
		} else {
			unset = append(unset, i)
		}
	}
	if len(unset) == 0 {
		return nil
	}
	// Not set: another user has the hash, or the user has a code by now,
	// or is gone.
	hashes, ids := make([]string, len(unset)), make([]any, len(unset))
	for j, i := range unset {
		hashes[j], ids[j] = codes[i].Hash, codes[i].UserID
	}
	holders, err := printCodeHolders(ctx, t, t.d, hashes)
	if err != nil {
		return err
	}
	cond, args := t.d.in("id", ids)
	exists, err := queryIDs(ctx, t, `SELECT id FROM users WHERE `+cond, args...)
	if err != nil {
		return err
	}
	for _, i := range unset {
		c := codes[i]
		out[i] = roster.FirstCodeNoUser
		if exists[c.UserID] {
			out[i] = roster.FirstCodeKept
		}
		for _, id := range holders[c.Hash] {
			if id != c.UserID {
				out[i] = roster.FirstCodeTaken
			}
		}
	}
	return nil
}

// updateFirstCodes sets the hash of each of codes on its user, where the
// user has no code and no user has the hash, and returns the IDs of the
// users it set. Their fingerprints stay: a first code changes nothing a
// sync plans (a user with a fingerprint and no code has an entry without
// one, and a sync keeps a code set in roster for such an entry).
// Where the database takes arrays, the pairs go as two arrays (unnest):
// the hashes of one call are distinct (SetFirstPrintCodeHashes), so the
// statement's own rows cannot clash.
func updateFirstCodes(ctx context.Context, t *tx, codes []roster.FirstPrintCode, now any) (map[int64]bool, error) {
	// Not empty: the index holds only codes that are set (see
	// UsersByPrintCodeHash).
	const free = `NOT EXISTS (SELECT 1 FROM users o WHERE o.print_code_hash = %s AND o.print_code_hash <> '')`
	if t.d.Arrays {
		ids, hashes := make([]int64, len(codes)), make([]string, len(codes))
		for i, c := range codes {
			ids[i], hashes[i] = c.UserID, c.Hash
		}
		return queryIDs(ctx, t, `UPDATE users SET print_code_hash = v.hash, updated_at = ?
			FROM unnest(?::bigint[], ?::text[]) AS v(id, hash)
			WHERE users.id = v.id AND users.print_code_hash = '' AND `+fmt.Sprintf(free, "v.hash")+` RETURNING users.id`, now, ids, hashes)
	}
	// One row a statement, prepared once: a statement that writes several
	// rows and may fail half-way needs a statement journal, which made
	// SQLite copy every page it touched.
	st, err := t.PrepareContext(ctx, `UPDATE users SET print_code_hash = ?, updated_at = ? WHERE id = ? AND print_code_hash = '' AND `+fmt.Sprintf(free, "?"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	set := make(map[int64]bool, len(codes))
	for _, c := range codes {
		res, err := st.ExecContext(ctx, c.Hash, now, c.UserID, c.Hash)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			set[c.UserID] = true
		}
	}
	return set, nil
}

// printCodeHolders returns, for each of hashes that users have, the IDs of
// those users (a directory may give two users one code).
func printCodeHolders(ctx context.Context, q querier, d *Dialect, hashes []string) (map[string][]int64, error) {
	vals := make([]any, len(hashes))
	for i, h := range hashes {
		vals[i] = h
	}
	cond, args := d.in("print_code_hash", vals)
	// Not empty: the index holds only codes that are set (see
	// UsersByPrintCodeHash).
	rows, err := q.QueryContext(ctx, `SELECT id, print_code_hash FROM users WHERE `+cond+` AND print_code_hash <> ''`, args...)
	if err != nil {
		return nil, err
	}
	holders := make(map[string][]int64)
	for rows.Next() {
		var id int64
		var h string
		if err := rows.Scan(&id, &h); err != nil {
			rows.Close()
			return nil, err
		}
		holders[h] = append(holders[h], id)
	}
	return holders, closeRows(rows)
}

// queryIDs runs a query whose rows are one ID each, and returns them as a
// set.
func queryIDs(ctx context.Context, q querier, query string, args ...any) (map[int64]bool, error) {
	list, err := queryIDList(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	ids := make(map[int64]bool, len(list))
	for _, id := range list {
		ids[id] = true
	}
	return ids, nil
}

// listBatch is how many values one statement takes in a list: maxParams
// bound one by one, or, where the database takes arrays, as many as a
// batched write (the list is one parameter).
func (d *Dialect) listBatch() int {
	if d.Arrays {
		return arrayBatch
	}
	return maxParams
}
