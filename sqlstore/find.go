package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/rosterhq/roster"
)

// UserFilter selects users for FindUsers. Its zero value selects every
// user.
type UserFilter = roster.UserFilter

// FindUsers returns one page of the users that f selects, ordered by login
// then ID, complete with aliases and cards, and the number of users that
// f selects over all pages.
func (db *DB) FindUsers(ctx context.Context, f UserFilter) ([]*roster.User, int, error) {
	var where []string
	var args []any
	// Logins are stored trimmed and in NFC: so is what is looked for.
	if q := roster.NormalizeLogin(f.Query); q != "" {
		like := "%" + escapeLike(q) + "%"
		where = append(where, strings.ReplaceAll(`(u.login LIKE ? ESCAPE '\' OR u.name LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\'
			OR EXISTS (SELECT 1 FROM user_aliases a WHERE a.user_id = u.id AND a.login LIKE ? ESCAPE '\'))`, "LIKE", db.d.Like))
		args = append(args, like, like, like, like)
	}
	if f.Disabled != nil {
		where = append(where, `u.disabled = ?`)
		args = append(args, *f.Disabled)
	}
	if f.SourceID != 0 {
		where = append(where, `u.source_id = ?`)
		args = append(args, f.SourceID)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}

	var total int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: find users: %w", err)
	}
	limit, offset := f.Limit, max(f.Offset, 0)
	if limit <= 0 {
		limit = noLimit
	}
	users, err := queryUsers(ctx, db.db, `SELECT `+userColumns+` FROM users u`+cond+
		` ORDER BY u.login, u.id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find users: %w", err)
	}
	return users, total, nil
}

// escapeLike escapes LIKE's wildcards, so they match themselves.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// loginHolders selects, for a login given twice, the users holding it
// (h.id) with their rank: 0 as their current login, 1 as a former one,
// and 2 as a former one of a user disabled as missing, who is gone from
// the directory and keeps it only as a record.
const loginHolders = `(SELECT h.id, CASE WHEN h.rank = 1 AND x.disabled_reason = '` + string(roster.DisabledMissing) + `' THEN 2 ELSE h.rank END AS rank
	FROM (
		SELECT 0 AS rank, id FROM users WHERE login = ?
		UNION ALL
		SELECT 1 AS rank, user_id FROM user_aliases WHERE login = ?
	) AS h JOIN users x ON x.id = h.id) AS holders`

// UserByLogin returns the user whose login, or else whose former login, is
// login, in any source, complete with aliases and cards. The login is
// compared as syncs store logins: trimmed, in Unicode NFC
// (roster.NormalizeLogin), case included. When several users match, a
// current login wins over a former one, a former one over that of a user
// disabled as missing, and then the oldest user (the lowest ID).
//
// Errors: ENOTFOUND when no user has or had this login.
func (db *DB) UserByLogin(ctx context.Context, login string) (*roster.User, error) {
	login = roster.NormalizeLogin(login)
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = (
		SELECT id FROM `+loginHolders+` ORDER BY rank, id LIMIT 1)`, login, login))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errLoginNotFound(login)
	}
	if err != nil {
		return nil, fmt.Errorf("store: user %s: %w", login, err)
	}
	if err := fillUsers(ctx, db.db, []*roster.User{u}); err != nil {
		return nil, fmt.Errorf("store: user %s: %w", login, err)
	}
	return u, nil
}

// UserToSignIn returns the one user a login typed at a terminal names:
// the user whose current login it is, or else the one whose former login
// it is, the login compared as UserByLogin does. Unlike UserByLogin, it
// refuses to choose between equals: a password checked against the wrong
// user's directory would count against that account. A former login of a
// user disabled as missing (gone from the directory) yields to any other
// holder.
//
// Errors: ENOTFOUND when no user has or had this login; ECONFLICT when
// users of several sources have it (the message names them).
func (db *DB) UserToSignIn(ctx context.Context, login string) (*roster.User, error) {
	login = roster.NormalizeLogin(login)
	rows, err := db.db.QueryContext(ctx, `SELECT holders.rank, u.id, u.login, s.name FROM `+loginHolders+`
		JOIN users u ON u.id = holders.id JOIN sources s ON s.id = u.source_id
		ORDER BY holders.rank, u.id LIMIT 2`, login, login)
	if err != nil {
		return nil, fmt.Errorf("store: user %s: %w", login, err)
	}
	type holder struct {
		rank         int
		id           int64
		login, where string
	}
	var hs []holder
	for rows.Next() {
		var h holder
		if err := rows.Scan(&h.rank, &h.id, &h.login, &h.where); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: user %s: %w", login, err)
		}
		hs = append(hs, h)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: user %s: %w", login, err)
	}
	switch {
	case len(hs) == 0:
		return nil, errLoginNotFound(login)
	case len(hs) == 2 && hs[0].rank == hs[1].rank && hs[0].id != hs[1].id:
		return nil, roster.Errorf(roster.ECONFLICT, "the login %s names a user of the source %s and one of the source %s; sign-ins by login need one login per person (a login format such as userPrincipalName tells them apart)",
			login, hs[0].where, hs[1].where)
	}
	return db.UserByID(ctx, hs[0].id)
}

// UserByID returns the user with this ID, complete with aliases and cards.
//
// Errors: ENOTFOUND when no user has this ID.
func (db *DB) UserByID(ctx context.Context, id int64) (*roster.User, error) {
	users, err := queryUsers(ctx, db.db, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("store: user %d: %w", id, err)
	}
	if len(users) == 0 {
		return nil, errUserNotFound("UserByID", id)
	}
	return users[0], nil
}
