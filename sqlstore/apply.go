package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// Apply writes changes to the source's users in one transaction: all of
// them, or none when it returns an error.
//
//   - Create inserts c.User and its directory cards, under sourceID.
//   - Update, Rename, Reenable and Disable overwrite the user c.User.ID
//     with c.User's fields (not its anchor or creation time). When
//     c.CardsChanged is set they replace its directory cards with those
//     in c.User.Cards, in their order; otherwise they leave the stored
//     cards as they are, unread: the planner compared them already.
//     Cards added by hand are never touched: cards in c.User.Cards with
//     Origin manual are ignored, and a card with no Origin counts as a
//     directory card.
//   - Rename also keeps c.OldLogin as an alias of the user; an alias equal
//     to the new login is dropped.
//   - Create and Rename take the login away from the former logins of
//     the source's other users, except those disabled as missing: gone
//     from the directory, they keep their former logins as a record (a
//     user that gives its login up to an entry made again keeps it so),
//     and lookups by login find the new holder first.
//   - Delete deletes the user c.User.ID, its cards and aliases.
//
// Apply does the deletes first, then the updates, then the creates, and
// writes the cards last, so a card may move from one user to another
// within one batch, whatever the order of changes.
//
// On success Apply returns one user ID per change, in the order of
// changes: the new user's ID for a Create, c.User.ID for the others (a
// batch's new users are numbered in the order of their anchors). It
// writes nothing into changes or their users: a caller that keeps them
// takes the new IDs from the result, and reads the stored times back if
// it needs them.
//
// Errors: EINVALID for a change without a user, of an unknown kind, or
// with an empty card number among the cards it writes; ENOTFOUND when a
// user to change or delete is not (or no longer) a user of the source;
// ECONFLICT when a create's anchor is taken, or when a card number
// belongs to another user, naming both logins. On an error it returns no
// IDs. While a first sync has the unique indexes away (DeferIndexes) it
// finds no such conflict: the sync keeps the rules itself, and the build
// settles what others wrote.
func (db *DB) Apply(ctx context.Context, sourceID int64, changes []roster.Change) ([]int64, error) {
	for i, c := range changes {
		if err := checkChange(i, c); err != nil {
			return nil, err
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	now := db.now()
	ids := make([]int64, len(changes))
	apply := func(tx *tx) error {
		a, err := prepareApply(ctx, tx, sourceID, now)
		if err != nil {
			return fmt.Errorf("store: apply: %w", err)
		}
		a.db = db
		defer a.close()
		return a.run(changes, ids)
	}
	var err error
	if db.d.CopyIn != nil {
		err = db.inConnTx(ctx, "apply", apply) // it copies its rows (copyCreates, copyCards)
	} else {
		err = db.inTx(ctx, "apply", apply)
	}
	if err != nil {
		return nil, err
	}
	db.noteGrowth(ctx, changes)
	return ids, nil
}

// noteGrowth counts the users created, and refreshes the statistics
// (Dialect.Analyze) when they have grown fourfold since the last refresh
// (ANALYZE of 100,000 users takes 0.2 s: four of them, not seven, in a
// first sync of that size). Best
// effort: a refused ANALYZE only leaves the plans as they were.
func (db *DB) noteGrowth(ctx context.Context, changes []roster.Change) {
	if db.d.Analyze == "" {
		return
	}
	n := int64(0)
	for _, c := range changes {
		if c.Kind == roster.Create {
			n++
		}
	}
	db.growth.Lock()
	db.grown += n
	due := db.grown >= 1000 && db.grown > 3*db.base
	if due {
		db.base += db.grown
		db.grown = 0
	}
	db.growth.Unlock()
	if due {
		db.db.ExecContext(ctx, db.d.Analyze)
	}
}

func checkChange(i int, c roster.Change) error {
	if c.User == nil {
		return errBadChange(i, "it has no user")
	}
	switch c.Kind {
	case roster.Create:
	case roster.Update, roster.Rename, roster.Reenable, roster.Disable, roster.Delete:
		if c.User.ID == 0 {
			return errBadChange(i, fmt.Sprintf("%s of %s has no user ID", c.Kind, c.User.Login))
		}
	default:
		return errBadChange(i, fmt.Sprintf("unknown kind %q", c.Kind))
	}
	return nil
}

// applier holds one Apply's transaction and prepared statements.
type applier struct {
	ctx      context.Context
	sourceID int64
	at       time.Time // the time it writes
	now      any       // at as stored

	tx *tx // for the batched writes, whose statements vary in length
	db *DB // its store, which remembers whether it may take new IDs (copyCreates)

	updateUser, deleteUser                  *lazyStmt
	insertUser, insertCard                  *lazyStmt // one row each, where there are no arrays
	dropDirectoryCards, owner               *lazyStmt
	insertAlias, dropAlias, dropOthersAlias *lazyStmt
	stmts                                   []*lazyStmt
}

func prepareApply(ctx context.Context, tx *tx, sourceID int64, now time.Time) (*applier, error) {
	a := &applier{ctx: ctx, tx: tx, sourceID: sourceID, at: now, now: timeValue(now)}
	for _, p := range []struct {
		stmt  **lazyStmt
		query string
	}{
		// CAST: PostgreSQL would type the fingerprint's parameter as the
		// ELSE's literal, a 32-bit integer, and refuse nearly every
		// fingerprint (all 64 bits are used).
		{&a.updateUser, `UPDATE users SET dn = ?, dn_key = ?, login = ?, name = ?, email = ?,
			department = ?, cost_center = ?,
			print_code_hash = CASE WHEN print_code_hash = ? THEN ? ELSE print_code_hash END,
			fingerprint = CASE WHEN print_code_hash = ? THEN CAST(? AS BIGINT) ELSE 0 END,
			disabled = ?, disabled_reason = ?,
			missing_since = ?, seen_at = ?, extra = ?, updated_at = ?
			WHERE id = ? AND source_id = ? AND (? = '' OR anchor = ?)`},
		{&a.deleteUser, `DELETE FROM users WHERE id = ? AND source_id = ? AND (? = '' OR anchor = ?)`},
		// One row a statement: a statement that writes several rows and
		// may fail half-way needs a statement journal, which made SQLite
		// copy every page it touched (a fifth of a first sync's time).
		//
		// ON CONFLICT names no index: a first sync writes with the
		// unique ones away (DeferIndexes), and a named one must be there.
		// Each table has no other unique rule a create could break.
		{&a.insertUser, `INSERT INTO users (` + userCols + `) VALUES (` + placeholders(userColN) + `)
			ON CONFLICT DO NOTHING`},
		{&a.insertCard, `INSERT INTO cards (user_id, number, kind, origin, expires_at) VALUES (?, ?, ?, 'directory', ?)
			ON CONFLICT DO NOTHING`},
		{&a.dropDirectoryCards, `DELETE FROM cards WHERE user_id = ? AND origin = 'directory'`},
		{&a.owner, `SELECT c.user_id, u.login FROM cards c JOIN users u ON u.id = c.user_id WHERE c.number = ?`},
		{&a.insertAlias, `INSERT INTO user_aliases (user_id, login) VALUES (?, ?) ON CONFLICT DO NOTHING`},
		{&a.dropAlias, `DELETE FROM user_aliases WHERE user_id = ? AND login = ?`},
		// EXISTS, not IN (SELECT id ... source_id = ?): the IN list would
		// be built from every user of the source, for every create.
		{&a.dropOthersAlias, `DELETE FROM user_aliases WHERE login = ? AND user_id <> ?
			AND EXISTS (SELECT 1 FROM users u WHERE u.id = user_aliases.user_id AND u.source_id = ? AND u.disabled_reason <> ?)`},
	} {
		*p.stmt = &lazyStmt{tx: tx, query: p.query}
		a.stmts = append(a.stmts, *p.stmt)
	}
	return a, nil
}

func (a *applier) close() {
	for _, s := range a.stmts {
		if s.s != nil {
			s.s.Close()
		}
	}
}

// lazyStmt is a statement prepared on its first use: most Applies use a
// few of the applier's statements, and on PostgreSQL each preparation and
// each close is a round trip.
type lazyStmt struct {
	tx    *tx
	query string
	s     *loopStmt
	err   error
}

func (l *lazyStmt) prepare(ctx context.Context) error {
	if l.s == nil && l.err == nil {
		l.s, l.err = l.tx.PrepareContext(ctx, l.query)
	}
	return l.err
}

func (l *lazyStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if err := l.prepare(ctx); err != nil {
		return nil, err
	}
	return l.s.ExecContext(ctx, args...)
}

func (l *lazyStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if err := l.prepare(ctx); err != nil {
		return nil, err
	}
	return l.s.QueryContext(ctx, args...)
}

func (l *lazyStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	if l.prepare(ctx) != nil {
		return l.tx.QueryRowContext(ctx, l.query, args...) // fails the same way, as a Row
	}
	return l.s.QueryRowContext(ctx, args...)
}

// run applies changes in four passes (deletes, updates, creates, cards)
// and records in ids the ID of each change's user.
func (a *applier) run(changes []roster.Change, ids []int64) error {
	for i, c := range changes {
		if c.Kind != roster.Create {
			ids[i] = c.User.ID // a create's comes from its insert
		}
	}
	var deleted []any
	for _, c := range changes {
		if c.Kind == roster.Delete {
			if err := a.delete(c); err != nil {
				return err
			}
			deleted = append(deleted, c.User.ID)
		}
	}
	if err := a.dropCardsOf(deleted); err != nil {
		return err
	}
	for _, c := range changes {
		if c.Kind != roster.Create && c.Kind != roster.Delete {
			if err := a.update(c); err != nil {
				return err
			}
		}
	}
	var creates []int
	for i, c := range changes {
		if c.Kind == roster.Create {
			creates = append(creates, i)
		}
	}
	// Anchors (objectGUID, a Graph id) and card numbers often come at
	// random. In order, a batch's inserts walk each unique index once
	// instead of jumping about it: BenchmarkApplyFirstSync (random
	// anchors and cards) took 2.05-2.11 s against 2.18-2.26 s for
	// 100,000 users, and 68 s against 75 s for 1,000,000. The new IDs
	// follow the anchors' order.
	slices.SortStableFunc(creates, func(i, j int) int { return strings.Compare(changes[i].User.Anchor, changes[j].User.Anchor) })
	copied, err := a.copyCreates(changes, creates, ids)
	if err != nil {
		return err
	}
	if !copied {
		for chunk := range slices.Chunk(creates, createBatch) {
			if err := a.create(changes, chunk, ids); err != nil {
				return err
			}
		}
	}
	var holders []int // the changes whose directory cards are written
	for i, c := range changes {
		switch {
		case c.Kind == roster.Delete:
			continue
		case c.Kind != roster.Create && !c.CardsChanged:
			continue // the update left them as they are
		}
		holders = append(holders, i)
	}
	// By their users' first numbers: a user's cards stay together, in
	// their order, which is the order they are read back in.
	slices.SortStableFunc(holders, func(i, j int) int {
		return strings.Compare(firstCard(changes[i].User), firstCard(changes[j].User))
	})
	var cards []cardRow
	for _, i := range holders {
		c := changes[i]
		for k, card := range c.User.Cards {
			if card.Origin == roster.CardManual {
				continue
			}
			if card.Number == "" {
				return errEmptyCard(c.User.Login)
			}
			// A number the user lists twice is written once: the number's
			// unique index, which would skip the second, may be away
			// (DeferIndexes).
			if slices.ContainsFunc(c.User.Cards[:k], func(p roster.Card) bool {
				return p.Origin != roster.CardManual && p.Number == card.Number
			}) {
				continue
			}
			cards = append(cards, cardRow{ids[i], c.User, card})
		}
	}
	if copied, err := a.copyCards(cards); err != nil || copied {
		return err
	}
	for chunk := range slices.Chunk(cards, createBatch) {
		if err := a.cards(chunk); err != nil {
			return err
		}
	}
	return nil
}

// createBatch is how many users, or cards, go in one batch: one INSERT
// where the database takes arrays (one array a column, so the size costs
// no parameters), and one freeing of the new logins.
const createBatch = arrayBatch

// arrayBatch is how many rows one statement writes where the database
// takes arrays: one array a column, so the size costs no parameters. At
// 2,000 a statement, its parameters took megabytes to encode, and a
// first sync into PostgreSQL spent a third of its CPU collecting them.
const arrayBatch = 500

// values returns "(?, ?), (?, ?)" for rows rows of cols values each.
func values(rows, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

func (a *applier) delete(c roster.Change) error {
	u := c.User
	res, err := a.deleteUser.ExecContext(a.ctx, u.ID, a.sourceID, u.Anchor, u.Anchor)
	if err != nil {
		return fmt.Errorf("store: apply: delete %s: %w", u.Login, err)
	}
	return a.mustHit(res, c)
}

// dropCardsOf deletes the cards of the users deleted, by their IDs, not
// only through the foreign key's cascade: a first sync of another source
// may have the key away (DeferIndexes), and a card left behind would keep
// its number from its next holder. One statement a batch of users.
func (a *applier) dropCardsOf(ids []any) error {
	for chunk := range slices.Chunk(ids, a.tx.d.listBatch()) {
		in, args := a.tx.d.in("user_id", chunk)
		if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM cards WHERE `+in, args...); err != nil {
			return fmt.Errorf("store: apply: cards of %d deleted users: %w", len(chunk), err)
		}
	}
	return nil
}

func (a *applier) update(c roster.Change) error {
	u := c.User
	extra, err := extraValue(u.Extra)
	if err != nil {
		return fmt.Errorf("store: apply: extra of %s: %w", u.Login, err)
	}
	res, err := a.updateUser.ExecContext(a.ctx, u.DN, dnKey(u.DN), u.Login, u.Name, u.Email,
		u.Department, u.CostCenter, c.PrintCodeWas, u.PrintCodeHash, c.PrintCodeWas, int64(c.Fingerprint),
		u.Disabled, string(u.DisabledReason),
		timeValue(u.MissingSince), timeValue(u.SeenAt), extra, a.now,
		u.ID, a.sourceID, u.Anchor, u.Anchor)
	if err != nil {
		return fmt.Errorf("store: apply: %s %s: %w", c.Kind, u.Login, err)
	}
	if err := a.mustHit(res, c); err != nil {
		return err
	}
	// Unchanged cards are neither read nor written: most updates change
	// other fields, and the planner compared the cards already.
	if c.CardsChanged {
		if _, err := a.dropDirectoryCards.ExecContext(a.ctx, u.ID); err != nil {
			return fmt.Errorf("store: apply: cards of %s: %w", u.Login, err)
		}
	}
	if c.Kind == roster.Rename {
		if c.OldLogin != "" && c.OldLogin != u.Login {
			if _, err := a.insertAlias.ExecContext(a.ctx, u.ID, c.OldLogin); err != nil {
				return fmt.Errorf("store: apply: alias %s of %s: %w", c.OldLogin, u.Login, err)
			}
		}
		if _, err := a.dropAlias.ExecContext(a.ctx, u.ID, u.Login); err != nil {
			return fmt.Errorf("store: apply: alias %s: %w", u.Login, err)
		}
		return a.freeLogin(u.ID, u.Login)
	}
	return nil
}

// mustHit turns a write that found no row into ENOTFOUND.
func (a *applier) mustHit(res sql.Result, c roster.Change) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: apply: %s %s: %w", c.Kind, c.User.Login, err)
	}
	if n == 0 {
		return errUserGone(string(c.Kind), c.User.Login, c.User.ID)
	}
	return nil
}

// create inserts the users of changes[chunk] in one statement and records
// their IDs in ids, then frees their logins from other users' aliases.
func (a *applier) create(changes []roster.Change, chunk []int, ids []int64) error {
	if err := twinAnchor(changes, chunk); err != nil {
		return err
	}
	args := make([]any, 0, len(chunk)*userColN)
	for _, i := range chunk {
		var err error
		if args, err = a.userValues(args, changes[i], timeValue, a.now); err != nil {
			return err
		}
	}
	got, err := a.insertUsers(args)
	if err != nil {
		return fmt.Errorf("store: apply: create %d users: %w", len(chunk), err)
	}
	for _, i := range chunk {
		u := changes[i].User
		id, ok := got[u.Anchor]
		if !ok { // the anchor's row exists: nothing was inserted for it
			return errAnchorTaken(u.Login, u.Anchor)
		}
		ids[i] = id
	}
	return a.freeLogins(changes, chunk, ids)
}

// twinAnchor fails when two of the creates in chunk have one anchor.
func twinAnchor(changes []roster.Change, chunk []int) error {
	seen := make(map[string]bool, len(chunk))
	for _, i := range chunk {
		u := changes[i].User
		if seen[u.Anchor] {
			return errAnchorTaken(u.Login, u.Anchor)
		}
		seen[u.Anchor] = true
	}
	return nil
}

// userValues appends to dst the userColN values a create of c writes:
// its own times as stamp gives them, and now, as stamp gave a.at, for its
// creation and update (formatted once an Apply, not twice a user).
func (a *applier) userValues(dst []any, c roster.Change, stamp func(time.Time) any, now any) ([]any, error) {
	u := c.User
	extra, err := extraValue(u.Extra)
	if err != nil {
		return nil, fmt.Errorf("store: apply: extra of %s: %w", u.Login, err)
	}
	return append(dst, a.sourceID, u.Anchor, u.DN, dnKey(u.DN), u.Login,
		u.Name, u.Email, u.Department, u.CostCenter, u.PrintCodeHash, u.Disabled,
		string(u.DisabledReason), stamp(u.MissingSince), stamp(u.SeenAt), extra, now, now,
		int64(c.Fingerprint)), nil
}

// freeLogins frees the logins of the users created by changes[chunk],
// whose IDs are in ids: a login freed by a rename may now go to a new
// user, so it is dropped from the aliases of the source's other users,
// gone ones aside (see freeLogin). One statement a chunk.
func (a *applier) freeLogins(changes []roster.Change, chunk []int, ids []int64) error {
	logins := make([]any, 0, len(chunk))
	created := make([]any, 0, len(chunk))
	for _, i := range chunk {
		logins = append(logins, changes[i].User.Login)
		created = append(created, ids[i])
	}
	inLogins, loginArgs := a.tx.d.in("login", logins)
	notNew, newArgs := "user_id NOT IN ("+placeholders(len(created))+")", created
	if a.tx.d.Arrays {
		newIDs := make([]int64, len(created))
		for i, v := range created {
			newIDs[i] = v.(int64)
		}
		notNew, newArgs = "user_id <> ALL(?)", []any{newIDs}
	}
	if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM user_aliases WHERE `+inLogins+` AND `+notNew+`
		AND EXISTS (SELECT 1 FROM users u WHERE u.id = user_aliases.user_id AND u.source_id = ? AND u.disabled_reason <> ?)`,
		append(append(loginArgs, newArgs...), a.sourceID, string(roster.DisabledMissing))...); err != nil {
		return fmt.Errorf("store: apply: free the logins of %d new users: %w", len(chunk), err)
	}
	return nil
}

// freeLogin drops u's login from the former logins of the source's other
// users: a login freed by a rename may go to someone else (a new jsmith
// after the old one was renamed), and then it finds the new holder only.
// Users disabled as missing keep theirs: they are gone from the
// directory, and their former logins are a record, not an identity.
func (a *applier) freeLogin(id int64, login string) error {
	if _, err := a.dropOthersAlias.ExecContext(a.ctx, login, id, a.sourceID, string(roster.DisabledMissing)); err != nil {
		return fmt.Errorf("store: apply: alias %s: %w", login, err)
	}
	return nil
}

// cardRow is one directory card to store as a card of user id.
type cardRow struct {
	id   int64
	u    *roster.User
	card roster.Card
}

// firstCard returns the number of u's first directory card, "" when it
// has none.
func firstCard(u *roster.User) string {
	for _, c := range u.Cards {
		if c.Origin != roster.CardManual {
			return c.Number
		}
	}
	return ""
}

// cards inserts a batch of directory cards in one statement. A number the
// user already holds (twice in the list, or as a manual card) is skipped;
// a number another user holds is a conflict, naming both (while the
// number's unique index is there: see Apply).
func (a *applier) cards(batch []cardRow) error {
	args := make([]any, 0, len(batch)*4)
	for _, r := range batch {
		args = append(args, r.id, r.card.Number, string(r.card.Kind), timeValue(r.card.ExpiresAt))
	}
	stored, err := a.insertCards(args)
	if err != nil {
		return fmt.Errorf("store: apply: store %d cards: %w", len(batch), err)
	}
	for _, r := range batch {
		if stored[cardKey{r.id, r.card.Number}] {
			continue
		}
		var ownerID int64
		var owner string
		if err := a.owner.QueryRowContext(a.ctx, r.card.Number).Scan(&ownerID, &owner); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				err = fmt.Errorf("card was not stored and has no owner")
			}
			return fmt.Errorf("store: apply: card %s of %s: %w", r.card.Number, r.u.Login, err)
		}
		if ownerID != r.id {
			return errCardTaken("Apply", r.card.Number, r.u.Login, owner)
		}
	}
	return nil
}

// userCols are the columns a create writes, in the order of its values;
// userColN counts them.
const (
	userCols = `source_id, anchor, dn, dn_key, login, name, email, department,
	cost_center, print_code_hash, disabled, disabled_reason, missing_since, seen_at, extra,
	created_at, updated_at, fingerprint`
	userColN = 18
)

// insertUsers inserts the users whose userColN values each are flattened in
// args, skipping anchors the source has, and returns the new rows' IDs by
// anchor. Where the database takes arrays, the values go as one array a
// column (unnest): one statement of userColN parameters. Elsewhere (SQLite) a
// statement prepared once inserts one row at a time: in process, a
// statement costs no round trip. Neither names its conflict's rule,
// which a first sync writes without (see prepareApply).
func (a *applier) insertUsers(args []any) (map[string]int64, error) {
	got := make(map[string]int64, len(args)/userColN)
	if !a.tx.d.Arrays {
		for row := range slices.Chunk(args, userColN) {
			res, err := a.insertUser.ExecContext(a.ctx, row...)
			if err != nil {
				return nil, err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue // the anchor is taken: the caller says so
			}
			id, err := res.LastInsertId()
			if err != nil {
				return nil, err
			}
			got[row[1].(string)] = id
		}
		return got, nil
	}
	rows, err := a.tx.QueryContext(a.ctx, `INSERT INTO users (`+userCols+`)
		SELECT t.source_id, t.anchor, t.dn, t.dn_key, t.login, t.name, t.email, t.department,
			t.cost_center, t.print_code_hash, t.disabled, t.disabled_reason,
			t.missing_since::timestamptz, t.seen_at::timestamptz, t.extra,
			t.created_at::timestamptz, t.updated_at::timestamptz, t.fingerprint
		FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
			?::text[], ?::text[], ?::bool[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[])
			AS t(`+userCols+`)
		ON CONFLICT DO NOTHING RETURNING id, anchor`, columns(args, userColN)...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var anchor string
		if err := rows.Scan(&id, &anchor); err != nil {
			rows.Close()
			return nil, err
		}
		got[anchor] = id
	}
	return got, closeRows(rows)
}

// cardKey is a card number held by a user.
type cardKey struct {
	id     int64
	number string
}

// insertCards inserts the directory cards whose 4 values each (user ID,
// number, kind, expiry) are flattened in args, skipping numbers already
// held, and returns those it stored; as insertUsers, with arrays or one
// row at a time.
func (a *applier) insertCards(args []any) (map[cardKey]bool, error) {
	stored := make(map[cardKey]bool, len(args)/4)
	if !a.tx.d.Arrays {
		for row := range slices.Chunk(args, 4) {
			res, err := a.insertCard.ExecContext(a.ctx, row...)
			if err != nil {
				return nil, err
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				stored[cardKey{row[0].(int64), row[1].(string)}] = true
			}
		}
		return stored, nil
	}
	rows, err := a.tx.QueryContext(a.ctx, `INSERT INTO cards (user_id, number, kind, origin, expires_at)
		SELECT t.user_id, t.number, t.kind, 'directory', t.expires_at::timestamptz
		FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS t(user_id, number, kind, expires_at)
		ON CONFLICT DO NOTHING RETURNING user_id, number`, columns(args, 4)...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k cardKey
		if err := rows.Scan(&k.id, &k.number); err != nil {
			rows.Close()
			return nil, err
		}
		stored[k] = true
	}
	return stored, closeRows(rows)
}

// columns turns rows of width values, flattened in args, into one typed
// slice a column: []int64 for integers, []bool, and []string for text, or
// []*string where a value is NULL (nil), as a nil pointer.
func columns(args []any, width int) []any {
	n := len(args) / width
	out := make([]any, width)
	for c := 0; c < width; c++ {
		switch args[c].(type) {
		case int64:
			col := make([]int64, n)
			for r := range n {
				col[r] = args[r*width+c].(int64)
			}
			out[c] = col
		case bool:
			col := make([]bool, n)
			for r := range n {
				col[r] = args[r*width+c].(bool)
			}
			out[c] = col
		default:
			// []string where no value is NULL: its encoding is far
			// cheaper than that of []*string.
			strs, null := make([]string, n), false
			for r := range n {
				v, ok := args[r*width+c].(string)
				strs[r], null = v, null || !ok
			}
			if !null {
				out[c] = strs
				continue
			}
			col := make([]*string, n)
			for r := range n {
				if v, ok := args[r*width+c].(string); ok {
					col[r] = &v
				}
			}
			out[c] = col
		}
	}
	return out
}

// dnKey is the form of a DN that memberships join on: users.dn_key and
// group_members.user_dn. When roster.DNKey changes, a schema step
// recomputes both (see RekeyDNs).
func dnKey(dn string) string { return roster.DNKey(dn) }
