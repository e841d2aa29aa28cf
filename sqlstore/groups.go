package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/rosterhq/roster"
)

// PlanGroups returns what SyncGroups with Remove would write to make the
// source's groups equal to groups, and writes nothing: the source's
// stored groups and memberships, and how many of each would be added,
// updated and removed, with the names of the groups that would be
// removed or lose members.
//
// Errors: EINVALID when two groups share an anchor.
func (db *DB) PlanGroups(ctx context.Context, sourceID int64, groups []roster.GroupRecord) (roster.GroupPlan, error) {
	if err := checkGroupAnchors(groups); err != nil {
		return roster.GroupPlan{}, err
	}
	d, err := diffGroups(ctx, db.db, sourceID, groups)
	if err != nil {
		return roster.GroupPlan{}, fmt.Errorf("store: plan groups of source %d: %w", sourceID, err)
	}
	return d.plan, nil
}

// SyncGroups writes groups as the source's groups, in one transaction,
// writing only the differences: a group is inserted when its anchor is
// new and updated when its DN or name changed; a membership is inserted
// when it is new. With opt.Remove, a stored group whose anchor groups no
// longer holds is deleted with its memberships, and a membership a group
// no longer lists is deleted, so that the stored groups equal groups;
// without it, no group and no membership is deleted, whatever groups
// holds (an empty groups deletes nothing). A non-zero opt.Cursor is saved
// as the source's cursor (as SaveCursor does) in the same transaction. A
// call that changes nothing writes no row; a call that fails writes
// nothing, the cursor included.
//
// Members are kept by DN, compared as DNs (roster.DNKey), and need not be
// stored users: they join users when a user of the same source with that
// DN exists (see UserGroups).
//
// Errors: EINVALID when two groups share an anchor.
func (db *DB) SyncGroups(ctx context.Context, sourceID int64, groups []roster.GroupRecord, opt roster.GroupSync) error {
	if err := checkGroupAnchors(groups); err != nil {
		return err
	}
	return db.inTx(ctx, "sync groups", func(tx *tx) error {
		if err := syncGroups(ctx, tx, sourceID, groups, opt.Remove); err != nil {
			return fmt.Errorf("store: sync groups of source %d: %w", sourceID, err)
		}
		if opt.Cursor.IsZero() {
			return nil
		}
		if err := saveCursor(ctx, tx, sourceID, opt.Cursor, db.now()); err != nil {
			return fmt.Errorf("store: save cursor of source %d: %w", sourceID, err)
		}
		return nil
	})
}

func checkGroupAnchors(groups []roster.GroupRecord) error {
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		if seen[g.Anchor] {
			return errDuplicateGroup(g.Anchor)
		}
		seen[g.Anchor] = true
	}
	return nil
}

type storedGroup struct {
	id       int64
	dn, name string
}

// groupDiff is how a read of the groups differs from the stored ones.
type groupDiff struct {
	plan   roster.GroupPlan
	writes []groupWrite
	gone   []storedGroup // stored groups the read no longer holds, by ID
}

// groupWrite is what one group of the read needs.
type groupWrite struct {
	rec    *roster.GroupRecord
	id     int64 // 0: a new group
	update bool  // its DN or name changed
	add    []string
	drop   []any // member keys, sorted
}

// diffGroups compares groups with the source's stored groups, read
// through q.
func diffGroups(ctx context.Context, q querier, sourceID int64, groups []roster.GroupRecord) (*groupDiff, error) {
	stored := map[string]storedGroup{}
	rows, err := q.QueryContext(ctx, `SELECT id, anchor, dn, name FROM groups WHERE source_id = ?`, sourceID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var g storedGroup
		var anchor string
		if err := rows.Scan(&g.id, &anchor, &g.dn, &g.name); err != nil {
			rows.Close()
			return nil, err
		}
		stored[anchor] = g
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	members, err := sourceMembers(ctx, q, sourceID)
	if err != nil {
		return nil, err
	}
	d := &groupDiff{}
	d.plan.Groups = len(stored)
	for _, m := range members {
		d.plan.Members += len(m)
	}
	for i := range groups {
		g := &groups[i]
		w := groupWrite{rec: g}
		var have map[string]bool
		if s, ok := stored[g.Anchor]; ok {
			delete(stored, g.Anchor)
			w.id, w.update, have = s.id, s.dn != g.DN || s.name != g.Name, members[s.id]
			if w.update {
				d.plan.UpdateGroups++
			}
		} else {
			d.plan.AddGroups++
		}
		want := make(map[string]bool, len(g.MemberDNs))
		for _, dn := range g.MemberDNs {
			if dn != "" {
				want[dnKey(dn)] = true
			}
		}
		for _, dn := range sortedKeys(want) {
			if !have[dn] {
				w.add = append(w.add, dn)
			}
		}
		for _, dn := range sortedKeys(have) {
			if !want[dn] {
				w.drop = append(w.drop, dn)
			}
		}
		d.plan.AddMembers += len(w.add)
		if len(w.drop) > 0 {
			d.plan.RemoveMembers += len(w.drop)
			d.plan.Shrunk = append(d.plan.Shrunk, groupName(g.Name, g.DN))
		}
		d.writes = append(d.writes, w)
	}
	for _, s := range stored {
		d.gone = append(d.gone, s)
		d.plan.RemoveGroups++
		d.plan.RemoveMembers += len(members[s.id])
		d.plan.Removed = append(d.plan.Removed, groupName(s.name, s.dn))
	}
	slices.SortFunc(d.gone, func(a, b storedGroup) int { return cmp.Compare(a.id, b.id) })
	slices.Sort(d.plan.Removed)
	slices.Sort(d.plan.Shrunk)
	return d, nil
}

// groupName is how a note names a group: its name, else its DN.
func groupName(name, dn string) string {
	if name != "" {
		return name
	}
	return dn
}

// syncGroups writes groups over the source's stored groups; remove lets
// it delete what the read no longer holds.
func syncGroups(ctx context.Context, tx *tx, sourceID int64, groups []roster.GroupRecord, remove bool) error {
	d, err := diffGroups(ctx, tx, sourceID, groups)
	if err != nil {
		return err
	}

	var stmts []*loopStmt
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	prepare := func(query string) *loopStmt {
		if err != nil {
			return nil
		}
		var s *loopStmt
		if s, err = tx.PrepareContext(ctx, query); err == nil {
			stmts = append(stmts, s)
		}
		return s
	}
	var (
		insertGroup = prepare(`INSERT INTO groups (source_id, anchor, dn, name) VALUES (?, ?, ?, ?) RETURNING id`)
		updateGroup = prepare(`UPDATE groups SET dn = ?, name = ? WHERE id = ?`)
		deleteGroup = prepare(`DELETE FROM groups WHERE id = ?`)
	)
	if err != nil {
		return err
	}

	var adds []any // group ID, member DN, ...: written in batches
	for _, w := range d.writes {
		g := w.rec
		switch {
		case w.id == 0:
			if err := insertGroup.QueryRowContext(ctx, sourceID, g.Anchor, g.DN, g.Name).Scan(&w.id); err != nil {
				return fmt.Errorf("group %s: %w", g.DN, err)
			}
		case w.update:
			if _, err := updateGroup.ExecContext(ctx, g.DN, g.Name, w.id); err != nil {
				return fmt.Errorf("group %s: %w", g.DN, err)
			}
		}
		for _, dn := range w.add {
			adds = append(adds, w.id, dn)
		}
		if len(adds) >= 2*memberBatch {
			if err := addMembers(ctx, tx, adds); err != nil {
				return err
			}
			adds = adds[:0]
		}
		if !remove {
			continue
		}
		for chunk := range slices.Chunk(w.drop, memberBatch) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_dn IN (`+placeholders(len(chunk))+`)`,
				append([]any{w.id}, chunk...)...); err != nil {
				return fmt.Errorf("members of group %s: %w", g.DN, err)
			}
		}
	}
	if err := addMembers(ctx, tx, adds); err != nil {
		return err
	}
	if !remove {
		return nil
	}
	for _, s := range d.gone {
		if _, err := deleteGroup.ExecContext(ctx, s.id); err != nil {
			return fmt.Errorf("group %s: %w", s.dn, err)
		}
	}
	return nil
}

// memberBatch is how many memberships one statement writes or drops.
const memberBatch = 500

// addMembers inserts the (group ID, member DN) pairs flattened in pairs.
func addMembers(ctx context.Context, tx *tx, pairs []any) error {
	for chunk := range slices.Chunk(pairs, 2*memberBatch) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_dn) VALUES `+values(len(chunk)/2, 2), chunk...); err != nil {
			return fmt.Errorf("add %d memberships: %w", len(chunk)/2, err)
		}
	}
	return nil
}

// sourceMembers reads the stored members of every group of a source, by
// group ID, in one query: one per group cost a round trip each.
func sourceMembers(ctx context.Context, q querier, sourceID int64) (map[int64]map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.group_id, m.user_dn FROM group_members m
		JOIN groups g ON g.id = m.group_id WHERE g.source_id = ?`, sourceID)
	if err != nil {
		return nil, err
	}
	sets := map[int64]map[string]bool{}
	for rows.Next() {
		var id int64
		var dn string
		if err := rows.Scan(&id, &dn); err != nil {
			rows.Close()
			return nil, err
		}
		if sets[id] == nil {
			sets[id] = map[string]bool{}
		}
		sets[id][dn] = true
	}
	return sets, closeRows(rows)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UserGroups returns the groups of the user's source that list the user's
// DN among their members, by name. Group.Members is left empty.
//
// Errors: ENOTFOUND when no user has this ID.
//
// One statement answers both: the user's row comes back, with no group
// (NULLs) when it belongs to none, so that a terminal's lookup of a user
// without groups needs no second query to tell "none" from "no user".
func (db *DB) UserGroups(ctx context.Context, userID int64) ([]*roster.Group, error) {
	rows, err := hotQuerier{db.db}.QueryContext(ctx, `SELECT g.id, g.source_id, g.anchor, g.dn, g.name
		FROM users u
		LEFT JOIN group_members m ON m.user_dn = u.dn_key AND u.dn_key != ''
		LEFT JOIN groups g ON g.id = m.group_id AND g.source_id = u.source_id
		WHERE u.id = ?
		ORDER BY g.name, g.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: groups of user %d: %w", userID, err)
	}
	var groups []*roster.Group
	found := false
	for rows.Next() {
		found = true
		var id, sourceID sql.NullInt64
		var anchor, dn, name sql.NullString
		if err := rows.Scan(&id, &sourceID, &anchor, &dn, &name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: groups of user %d: %w", userID, err)
		}
		if !id.Valid { // no group, or a membership of another source's group
			continue
		}
		groups = append(groups, &roster.Group{ID: id.Int64, SourceID: sourceID.Int64, Anchor: anchor.String, DN: dn.String, Name: name.String})
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: groups of user %d: %w", userID, err)
	}
	if !found {
		return nil, errUserNotFound("UserGroups", userID)
	}
	return groups, nil
}

// Groups lists every group, by name, with the number of stored users of
// its source that belong to it (nesting resolved).
func (db *DB) Groups(ctx context.Context) ([]*roster.GroupSummary, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT g.id, g.source_id, g.anchor, g.dn, g.name,
		(SELECT COUNT(*) FROM group_members m JOIN users u ON u.dn_key = m.user_dn AND u.source_id = g.source_id WHERE m.group_id = g.id)
		FROM groups g ORDER BY g.name, g.id`)
	if err != nil {
		return nil, fmt.Errorf("store: groups: %w", err)
	}
	defer rows.Close()
	var out []*roster.GroupSummary
	for rows.Next() {
		g := &roster.GroupSummary{}
		if err := rows.Scan(&g.ID, &g.SourceID, &g.Anchor, &g.DN, &g.Name, &g.Users); err != nil {
			return nil, fmt.Errorf("store: groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
