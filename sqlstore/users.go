package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/rosterhq/roster"
)

// userColumns are the users columns that scanUser reads, in its order.
const userColumns = `u.id, u.source_id, u.anchor, u.dn, u.login, u.name, u.email, u.department,
	u.cost_center, u.print_code_hash, u.disabled, u.disabled_reason, u.missing_since, u.seen_at,
	u.extra, u.created_at, u.updated_at`

func scanUser(row interface{ Scan(...any) error }) (*roster.User, error) {
	var (
		u        roster.User
		sourceID sql.NullInt64
		reason   string
		extra    sql.NullString
	)
	err := row.Scan(&u.ID, &sourceID, &u.Anchor, &u.DN, &u.Login, &u.Name, &u.Email, &u.Department,
		&u.CostCenter, &u.PrintCodeHash, &u.Disabled, &reason, timeCol{&u.MissingSince}, timeCol{&u.SeenAt},
		&extra, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	if err != nil {
		return nil, err
	}
	u.SourceID = sourceID.Int64
	u.DisabledReason = roster.DisabledReason(reason)
	if extra.Valid {
		if err := json.Unmarshal([]byte(extra.String), &u.Extra); err != nil {
			return nil, fmt.Errorf("extra of user %d: %w", u.ID, err)
		}
	}
	return &u, nil
}

// extraValue stores Extra as JSON, and an empty map as NULL.
func extraValue(extra map[string][]string) (any, error) { return jsonValue(extra, len(extra)) }

// queryUsers runs a query that selects userColumns and returns its users,
// complete with aliases and cards.
func queryUsers(ctx context.Context, q querier, query string, args ...any) ([]*roster.User, error) {
	users, err := queryUsersOnly(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	if err := fillUsers(ctx, q, users); err != nil {
		return nil, err
	}
	return users, nil
}

// queryUsersOnly is queryUsers without aliases and cards, for callers that
// use neither (a terminal's lookup by code): two queries fewer.
func queryUsersOnly(ctx context.Context, q querier, query string, args ...any) ([]*roster.User, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []*roster.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// fillUsers loads the aliases (oldest first) and the cards of users: the
// directory cards in the order they were given (primary first), then the
// manual cards in the order they were added.
func fillUsers(ctx context.Context, q querier, users []*roster.User) error {
	byID := make(map[int64]*roster.User, len(users))
	ids := make([]any, 0, len(users))
	for _, u := range users {
		byID[u.ID] = u
		ids = append(ids, u.ID)
	}
	for chunk := range slices.Chunk(ids, maxParams) {
		in := placeholders(len(chunk))
		rows, err := q.QueryContext(ctx, `SELECT user_id, login FROM user_aliases WHERE user_id IN (`+in+`) ORDER BY user_id, id`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var login string
			if err := rows.Scan(&id, &login); err != nil {
				rows.Close()
				return err
			}
			byID[id].Aliases = append(byID[id].Aliases, login)
		}
		if err := closeRows(rows); err != nil {
			return err
		}

		rows, err = q.QueryContext(ctx, `SELECT user_id, number, kind, origin, expires_at FROM cards WHERE user_id IN (`+in+`)
			ORDER BY user_id, origin = 'manual', id`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var c roster.Card
			if err := rows.Scan(&id, &c.Number, &c.Kind, &c.Origin, timeCol{&c.ExpiresAt}); err != nil {
				rows.Close()
				return err
			}
			byID[id].Cards = append(byID[id].Cards, c)
		}
		if err := closeRows(rows); err != nil {
			return err
		}
	}
	return nil
}

// closeRows closes rows and returns the error that ended the iteration.
func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	rows.Close()
	return err
}

// UsersByAnchor returns the source's users with these anchors, keyed by
// anchor, complete with aliases and cards. Cards of every origin are
// included: Card.Origin tells the directory's from those added by hand.
// Anchors that no user of the source holds are absent from the map.
func (db *DB) UsersByAnchor(ctx context.Context, sourceID int64, anchors []string) (map[string]*roster.User, error) {
	out := make(map[string]*roster.User, len(anchors))
	for chunk := range slices.Chunk(uniqueArgs(anchors), db.d.lookupBatch()) {
		in, args := db.d.in("u.anchor", chunk)
		users, err := queryUsers(ctx, db.db, `SELECT `+userColumns+` FROM users u
			WHERE u.source_id = ? AND `+in, append([]any{sourceID}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("store: users by anchor: %w", err)
		}
		for _, u := range users {
			out[u.Anchor] = u
		}
	}
	return out, nil
}

// LoginOwners returns, for each of logins that a user of the source holds
// as its current login, that user's anchor. Former logins (aliases) do
// not count: a login freed by a rename may be taken by someone else, and
// Apply then drops it from the aliases. Among several holders the oldest
// user (the lowest ID) wins, so the answer does not depend on storage
// order. Logins match exactly, case included.
func (db *DB) LoginOwners(ctx context.Context, sourceID int64, logins []string) (map[string]string, error) {
	out := make(map[string]string, len(logins))
	for chunk := range slices.Chunk(uniqueArgs(logins), db.d.lookupBatch()) {
		// SQLite, with no statistics, probes users_login_source (login
		// and source), and reads the table while a first sync has it
		// away (DeferIndexes): a hint naming it would fail then.
		list, args := db.d.keyed(chunk)
		rows, err := db.db.QueryContext(ctx, `SELECT u.login, u.anchor FROM `+
			db.d.probe(list, "users", "u.source_id = ? AND u.login = j.value")+` ORDER BY u.id`, append(args, sourceID)...)
		if err != nil {
			return nil, fmt.Errorf("store: login owners: %w", err)
		}
		for rows.Next() {
			var login, anchor string
			if err := rows.Scan(&login, &anchor); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: login owners: %w", err)
			}
			if _, ok := out[login]; !ok {
				out[login] = anchor
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, fmt.Errorf("store: login owners: %w", err)
		}
	}
	return out, nil
}

// usersPage is how many users Users reads per query.
const usersPage = 500

// Users calls fn for every user of the source, in ID order, complete with
// aliases and cards. It stops at the first error from fn and returns it.
//
// Users reads pages of usersPage users by ID (keyset paging), and calls fn
// between the queries rather than during one. Memory stays bounded, no
// read transaction is held open while fn works (which would keep the WAL
// from being checkpointed), and fn may call the DB itself, even on a
// one-connection :memory: database. The price: the pages are not one
// snapshot. A user created while Users runs is seen if its ID lies beyond
// the current page; a user deleted before its page is read is not seen.
func (db *DB) Users(ctx context.Context, sourceID int64, fn func(*roster.User) error) error {
	return inIDPages(fmt.Sprintf("users of source %d", sourceID), usersPage, func(after int64) ([]*roster.User, error) {
		return queryUsers(ctx, db.db, `SELECT `+userColumns+` FROM users u
			WHERE u.source_id = ? AND u.id > ? ORDER BY u.id LIMIT ?`, sourceID, after, usersPage)
	}, func(u *roster.User) int64 { return u.ID }, fn)
}

// UserStates calls fn with the state of every user of the source, in ID
// order: the removal check's read, which loads no cards and no fields
// but the state. It reads a page at a time, as Users does, so fn may
// write meanwhile.
func (db *DB) UserStates(ctx context.Context, sourceID int64, fn func(roster.UserState) error) error {
	return inIDPages(fmt.Sprintf("user states of source %d", sourceID), statesPage, func(after int64) ([]roster.UserState, error) {
		rows, err := db.db.QueryContext(ctx, `SELECT id, anchor, disabled, disabled_reason, missing_since FROM users
			WHERE source_id = ? AND id > ? ORDER BY id LIMIT ?`, sourceID, after, statesPage)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		states := make([]roster.UserState, 0, statesPage)
		for rows.Next() {
			var st roster.UserState
			var reason string
			if err := rows.Scan(&st.ID, &st.Anchor, &st.Disabled, &reason, timeCol{&st.MissingSince}); err != nil {
				return nil, err
			}
			st.DisabledReason = roster.DisabledReason(reason)
			states = append(states, st)
		}
		return states, rows.Err()
	}, func(st roster.UserState) int64 { return st.ID }, fn)
}

// CountUsers returns how many users the source has stored.
func (db *DB) CountUsers(ctx context.Context, sourceID int64) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE source_id = ?`, sourceID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users of source %d: %w", sourceID, err)
	}
	return n, nil
}

// HasUsers reports whether the source has a user; it reads at most one
// entry of an index (CountUsers reads them all: 30 ms at 1,000,000).
func (db *DB) HasUsers(ctx context.Context, sourceID int64) (bool, error) {
	var has bool
	if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE source_id = ?)`, sourceID).Scan(&has); err != nil {
		return false, fmt.Errorf("store: users of source %d: %w", sourceID, err)
	}
	return has, nil
}

// statesPage is how many user states UserStates reads a query.
const statesPage = 5000

// inIDPages reads rows a page at a time, in ID order (read returns the
// page after the ID it is given, at most size rows), and calls fn for
// each row once its page is read and closed, so that fn may use the
// database. A page shorter than size is the last. A read's error comes
// back naming what (as "store: users of source 3: ..."); fn's, as it is.
func inIDPages[T any](what string, size int, read func(after int64) ([]T, error), id func(T) int64, fn func(T) error) error {
	var after int64
	for {
		page, err := read(after)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		for _, row := range page {
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		after = id(page[len(page)-1])
	}
}

// uniqueArgs returns the distinct values of s, in first-seen order, as
// query arguments.
func uniqueArgs(s []string) []any {
	seen := make(map[string]bool, len(s))
	out := make([]any, 0, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
