package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/sqlstore"
)

// schema lists the constraints and indexes of the schema as PostgreSQL
// defines them, one a line.
func schema(t *testing.T, r *sql.DB) string {
	t.Helper()
	rows, err := r.Query(`SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
		FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
		UNION ALL SELECT indexrelid::regclass || ' ' || pg_get_indexdef(indexrelid) || ' ' || indisvalid
		FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// The indexes and keys a first sync defers are those of the schema, to
// the letter: a build makes them again as the schema's steps did,
// validated. Before the build, it deletes the cards of a
// user deleted while the key was away, as the key's cascade would have,
// so that the key can be made and the number can go to someone else.
func TestDeferredIndexesAndKeysAreTheSchemas(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLab(t)
	before := schema(t, r)
	for _, d := range postgres.Dialect.Deferrable {
		if !strings.Contains(before, " "+d.Name+" ") {
			t.Errorf("the schema has no %s\n%s", d.Name, before)
		}
	}
	dropped, err := db.DeferIndexes(ctx)
	if err != nil || len(dropped) != len(postgres.Dialect.Deferrable) {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v", dropped, err)
	}
	away := schema(t, r)
	for _, d := range postgres.Dialect.Deferrable {
		if strings.Contains(away, " "+d.Name+" ") {
			t.Errorf("DeferIndexes dropped %v, and %s is still there:\n%s", dropped, d.Name, away)
		}
	}

	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.Apply(ctx, source, []roster.Change{
		{Kind: roster.Create, Login: "ann", User: &roster.User{Anchor: "a-ann", Login: "ann", Cards: []roster.Card{{Number: "1001"}}}},
		{Kind: roster.Create, Login: "cid", User: &roster.User{Anchor: "a-cid", Login: "cid", Cards: []roster.Card{{Number: "3001"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// cid goes behind the store's back, by hand; the key is away, so his
	// card stays.
	if _, err := r.Exec(`DELETE FROM users WHERE login = 'cid'`); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards WHERE number = '3001'`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("with the key away, cid's card rows: %d, %v; want 1", left, err)
	}

	if err := db.BuildIndexes(ctx); err != nil {
		t.Fatalf("BuildIndexes: %v", err)
	}
	if after := schema(t, r); after != before {
		t.Errorf("after the build, the schema is\n%s\nwant\n%s", after, before)
	}
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards WHERE number = '3001'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("after the build, cid's card rows: %d, %v; want 0", left, err)
	}
	if err := db.AddCard(ctx, ids[0], roster.Card{Number: "3001"}); err != nil {
		t.Errorf("cid's number cannot go to ann after the build: %v", err)
	}
	// The key is back: a card for no user is refused; so is a number
	// taken, and a second user of corp under ann's anchor.
	for _, q := range []string{
		`INSERT INTO cards (user_id, number, origin) VALUES (999999, '9', 'manual')`,
		fmt.Sprintf(`INSERT INTO cards (user_id, number, origin) VALUES (%d, '1001', 'manual')`, ids[0]),
		fmt.Sprintf(`INSERT INTO users (source_id, anchor, login, created_at, updated_at) VALUES (%d, 'a-ann', 'ann2', now(), now())`, source),
	} {
		if _, err := r.Exec(q); err == nil {
			t.Errorf("after the build, %s was stored", q)
		}
	}
}

// Two nodes that both find a key away build it once: the second, once it
// has the lock, finds it made and goes on, where adding it again would
// fail.
func TestTwoBuildsAtOnceMakeEachKeyOnce(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLab(t)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) == 0 {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v", dropped, err)
	}
	// Both builds read what is away, then wait for the lock this
	// transaction holds.
	hold := holding(t, r, postgres.Dialect.LockMigrations)
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- db.BuildIndexes(ctx) }()
	}
	wait := labenv.Budget(30 * time.Second)
	deadline := time.Now().Add(wait)
	for waiting := 0; waiting < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d builds wait for the lock, want 2", wait, waiting)
		}
		if err := r.QueryRow(`SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	bound := labenv.Budget(2 * time.Minute)
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("two builds at once: %v", err)
			}
		case <-time.After(bound):
			t.Fatalf("after %v, a build has not returned", bound)
		}
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Errorf("after two builds, %v away (%v)", away, err)
	}
}

// waitForLockWaits waits until n transactions of this database wait for a
// lock, or done is closed first.
func waitForLockWaits(t *testing.T, r *sql.DB, n int, done <-chan struct{}) {
	t.Helper()
	bound := labenv.Budget(30 * time.Second)
	deadline := time.Now().Add(bound)
	for {
		var waiting int
		if err := r.QueryRow(`SELECT COUNT(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		select {
		case <-done:
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d transactions wait for a lock, want %d", bound, waiting, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// emptyWithAllAway returns a store whose deferrable indexes and keys
// DeferIndexes dropped, every one, with one user, ann, written since: the store, a plain connection, its
// database's URL, the source's ID and ann's.
func emptyWithAllAway(t *testing.T) (*sqlstore.DB, *sql.DB, string, int64, int64) {
	t.Helper()
	ctx := context.Background()
	db, r, dsn := openLab(t)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) != len(postgres.Dialect.Deferrable) {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v", dropped, err)
	}
	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.Apply(ctx, source, []roster.Change{{Kind: roster.Create, Login: "ann",
		User: &roster.User{Anchor: "a-ann", Login: "ann", Cards: []roster.Card{{Number: "1001"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return db, r, dsn, source, ids[0]
}

// ended waits for done, closed when a goroutine of the test has returned:
// bounded, so that a store call that hangs fails the test with its name
// instead of holding it until go test's own timeout.
func ended(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	bound := labenv.Budget(2 * time.Minute)
	select {
	case <-done:
	case <-time.After(bound):
		t.Fatalf("after %v, %s has not returned", bound, what)
	}
}

// behind runs call in a goroutine while hold holds what call needs:
// once call waits for a lock, it runs meanwhile (when set) and commits
// hold, then waits, bounded, for call to return, and returns its error.
func behind(t *testing.T, r *sql.DB, hold *sql.Tx, what string, call func() error, meanwhile func()) error {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() { defer close(done); err = call() }()
	waitForLockWaits(t, r, 1, done)
	if meanwhile != nil {
		meanwhile()
	}
	if err := hold.Commit(); err != nil {
		t.Fatal(err)
	}
	ended(t, done, what)
	return err
}

// holding begins a transaction on r, which the test's end rolls back,
// and runs stmt in it (none when empty): the locks it takes stay held
// until the caller ends the transaction.
func holding(t *testing.T, r *sql.DB, stmt string, args ...any) *sql.Tx {
	t.Helper()
	tx, err := r.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if stmt != "" {
		if _, err := tx.Exec(stmt, args...); err != nil {
			t.Fatal(err)
		}
	}
	return tx
}

// onlyTheCardsKeyAway adds every deferred key but the cards', which the
// deadlock tests are about: the users' key would have a build wait for a
// write before it reaches cards.
func onlyTheCardsKeyAway(t *testing.T, r *sql.DB) {
	t.Helper()
	for _, d := range postgres.Dialect.Deferrable {
		if d.Name != "cards_user_id_fkey" {
			if _, err := r.Exec(d.Make); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A build that starts while a sync's write has users in hand but no card
// yet waits for that write, which then goes on to its cards: the build
// takes the tables' locks in the order the write does (users, then
// cards), where ADD CONSTRAINT alone would take cards first, and one of
// the two would be cancelled as a deadlock.
func TestABuildWaitsForAWriteInProgressWithoutADeadlock(t *testing.T) {
	ctx := context.Background()
	db, r, _, source, _ := emptyWithAllAway(t)
	onlyTheCardsKeyAway(t, r)
	w := holding(t, r, "")
	var bob int64
	if err := w.QueryRow(`INSERT INTO users (source_id, anchor, login, created_at, updated_at)
		VALUES ($1, 'a-bob', 'bob', now(), now()) RETURNING id`, source).Scan(&bob); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var buildErr error
	go func() { defer close(done); buildErr = db.BuildIndexes(ctx) }()
	waitForLockWaits(t, r, 1, done)
	if _, err := w.Exec(`INSERT INTO cards (user_id, number, origin) VALUES ($1, '2001', 'directory')`, bob); err != nil {
		t.Fatalf("the write's card, once a build waits: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("the write's commit: %v", err)
	}
	ended(t, done, "the build")
	if buildErr != nil {
		t.Fatalf("the build: %v", buildErr)
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Fatalf("after the build, %v away (%v)", away, err)
	}
}

// A first sync that would wait for another transaction's hold on the
// tables keeps the keys rather than stall every reader queued behind its
// wait: DeferIndexes gives up on a lock timeout, and drops nothing.
func TestDeferIndexesGivesUpOnABusyTable(t *testing.T) {
	ctx := context.Background()
	db, r, _ := openLab(t)
	holding(t, r, `SELECT COUNT(*) FROM cards`) // a reader's lock, held
	// Bounded all the same: without its own timeout, DeferIndexes would
	// wait for the reader for ever.
	bctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	dropped, err := db.DeferIndexes(bctx)
	if err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("DeferIndexes beside a reader's open transaction dropped %v, %v; want a lock timeout", dropped, err)
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Fatalf("after DeferIndexes gave up, %v away (%v)", away, err)
	}
}

// Bulk print codes build the indexes they read, and leave the keys away
// to the sync that dropped them, which may still be writing.
func TestBulkPrintCodesLeaveTheKeysToTheSync(t *testing.T) {
	ctx := context.Background()
	db, _, _, _, ann := emptyWithAllAway(t)
	if _, err := db.PrintCodeHashesTaken(ctx, []string{"h1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SetFirstPrintCodeHashes(ctx, []roster.FirstPrintCode{{UserID: ann, Hash: "h1"}}); err != nil || len(got) != 1 || got[0] != roster.FirstCodeSet {
		t.Fatalf("SetFirstPrintCodeHashes = %v, %v", got, err)
	}
	var keys []string
	for _, d := range postgres.Dialect.Deferrable {
		if d.Key {
			keys = append(keys, d.Name)
		}
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || !slices.Equal(away, keys) {
		t.Fatalf("after bulk print codes, %v away (%v); want the keys %v, and the indexes built", away, err, keys)
	}
}

// A card added by hand to a user whom another transaction is deleting
// waits for that delete, and is then refused: with the key away, nothing
// else would keep it from outliving its user.
func TestAddCardWaitsForADeleteOfItsUser(t *testing.T) {
	ctx := context.Background()
	db, r, _, _, ann := emptyWithAllAway(t)
	del := holding(t, r, `DELETE FROM users WHERE id = $1`, ann)
	addErr := behind(t, r, del, "AddCard", func() error { return db.AddCard(ctx, ann, roster.Card{Number: "7007"}) }, nil)
	if roster.ErrorCode(addErr) != roster.ENOTFOUND {
		t.Errorf("AddCard to a user deleted meanwhile: %v; want ENOTFOUND", addErr)
	}
	var left int
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards WHERE number = '7007'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("card 7007 of a deleted user: %d rows, %v", left, err)
	}
}

// A sync killed before its build leaves the keys away: opening the user
// base again adds them when no sync holds a lease, and leaves them to
// the sync that does.
func TestOpeningAddsTheKeysAKilledSyncLeftAway(t *testing.T) {
	ctx := context.Background()
	db, _, dsn, source, _ := emptyWithAllAway(t)
	db.Now = time.Now
	if _, err := db.AcquireLease(ctx, source, "node-a", time.Hour); err != nil {
		t.Fatal(err)
	}
	reopen := func() []string {
		t.Helper()
		again, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		away, err := again.DeferredIndexes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return away
	}
	if away := reopen(); len(away) != len(postgres.Dialect.Deferrable) {
		t.Fatalf("opened while a sync holds a lease, the user base added keys: %v away", away)
	}
	if err := db.ReleaseLease(ctx, source, "node-a"); err != nil {
		t.Fatal(err)
	}
	if away := reopen(); len(away) != 0 {
		t.Fatalf("opened with no sync going, the user base left %v away", away)
	}
}

// Cards added or taken by hand write the user's row before the card, in
// the order a key's build locks the tables (users, then cards): a build
// that starts while such a write waits on a card keeps waiting for it,
// where a write that had taken the card first and then the user would
// deadlock with it.
func TestHandWrittenCardsAndABuildDoNotDeadlock(t *testing.T) {
	for _, c := range []struct {
		name string
		hold string // what another transaction holds, that the hand write waits for
		do   func(db *sqlstore.DB, ann int64) error
		undo func(*sql.Tx) error
	}{
		{"RemoveCard", `SELECT 1 FROM cards WHERE number = 'M1' FOR UPDATE`,
			func(db *sqlstore.DB, ann int64) error { return db.RemoveCard(context.Background(), ann, "M1") },
			func(tx *sql.Tx) error { return tx.Commit() }},
		{"AddCard", `INSERT INTO cards (user_id, number, origin) SELECT id, 'M2', 'manual' FROM users WHERE login = 'ann'`,
			func(db *sqlstore.DB, ann int64) error {
				return db.AddCard(context.Background(), ann, roster.Card{Number: "M2"})
			},
			func(tx *sql.Tx) error { return tx.Rollback() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db, r, _, _, ann := emptyWithAllAway(t)
			onlyTheCardsKeyAway(t, r)
			if err := db.AddCard(ctx, ann, roster.Card{Number: "M1"}); err != nil {
				t.Fatal(err)
			}
			other := holding(t, r, c.hold)
			writeDone, buildDone := make(chan struct{}), make(chan struct{})
			var writeErr, buildErr error
			go func() { defer close(writeDone); writeErr = c.do(db, ann) }()
			waitForLockWaits(t, r, 1, writeDone)
			go func() { defer close(buildDone); buildErr = db.BuildIndexes(ctx) }()
			waitForLockWaits(t, r, 2, buildDone)
			if err := c.undo(other); err != nil {
				t.Fatal(err)
			}
			ended(t, writeDone, "the hand write")
			ended(t, buildDone, "the build")
			if writeErr != nil {
				t.Errorf("the hand write: %v", writeErr)
			}
			if buildErr != nil {
				t.Errorf("the build: %v", buildErr)
			}
		})
	}
}

// Two cards added by hand to one user at once take turns, as an admin's
// double click makes them: here the other is a transaction that holds
// the user's row shared and then writes it, as AddCard once did.
func TestTwoCardsAddedAtOnceTakeTurns(t *testing.T) {
	ctx := context.Background()
	db, r, _, _, ann := emptyWithAllAway(t)
	other := holding(t, r, `SELECT 1 FROM users WHERE id = $1 FOR SHARE`, ann)
	addErr := behind(t, r, other, "AddCard", func() error { return db.AddCard(ctx, ann, roster.Card{Number: "M3"}) }, func() {
		if _, err := other.Exec(`UPDATE users SET fingerprint = 2 WHERE id = $1`, ann); err != nil {
			t.Fatalf("the other's write of the user: %v", err)
		}
	})
	if addErr != nil {
		t.Errorf("AddCard beside another write of the user: %v", addErr)
	}
}

// Two nodes adding one number by hand to two users take turns, and the
// second is refused, while a first sync has the number's unique index
// away: each reads the cards for the number, and without the card lock
// neither would see the other's.
func TestTwoNodesAddingOneNumberTakeTurns(t *testing.T) {
	ctx := context.Background()
	db, r, _, source, ann := emptyWithAllAway(t)
	if away, err := db.DeferredIndexes(ctx); err != nil || !slices.Contains(away, "cards_number") {
		t.Fatalf("away: %v, %v; want the number's index among them", away, err)
	}
	ids, err := db.Apply(ctx, source, []roster.Change{{Kind: roster.Create, Login: "bob", User: &roster.User{Anchor: "a-bob", Login: "bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	bob := ids[0]
	// The other node's AddCard, under way: it holds the lock and has
	// written ann's card.
	other := holding(t, r, postgres.Dialect.CardLock)
	if _, err := other.Exec(`INSERT INTO cards (user_id, number, origin) VALUES ($1, 'X1', 'manual')`, ann); err != nil {
		t.Fatal(err)
	}
	addErr := behind(t, r, other, "AddCard", func() error { return db.AddCard(ctx, bob, roster.Card{Number: "X1"}) }, nil)
	if roster.ErrorCode(addErr) != roster.ECONFLICT {
		t.Errorf("AddCard(bob, X1) after ann's X1 was added: %v, want a conflict", addErr)
	}
	var n int
	if err := r.QueryRow(`SELECT COUNT(*) FROM cards WHERE number = 'X1'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("card X1: %d rows, %v; want 1, ann's", n, err)
	}
}

// A build of what a first sync left away lets a transaction that has read
// the users (a print code being set: read, then write) go on: the build
// does not wait for the reader, and the reader's write goes through
// after it. A build that took the table from readers would wait for the
// reader (and, had the reader written meanwhile, the two would deadlock).
func TestABuildLetsAReaderThatThenWritesFinish(t *testing.T) {
	ctx := context.Background()
	db, r, _, _, ann := emptyWithAllAway(t)
	reader := holding(t, r, `SELECT COUNT(*) FROM users`)
	done := make(chan struct{})
	var buildErr error
	go func() { defer close(done); buildErr = db.BuildIndexes(ctx) }()
	ended(t, done, "BuildIndexes beside a reader")
	if buildErr != nil {
		t.Fatalf("BuildIndexes beside a reader: %v", buildErr)
	}
	if _, err := reader.Exec(`UPDATE users SET print_code_hash = 'h' WHERE id = $1`, ann); err != nil {
		t.Fatalf("the reader's write after the build: %v", err)
	}
	if err := reader.Commit(); err != nil {
		t.Fatal(err)
	}
	if away, err := db.DeferredIndexes(ctx); err != nil || len(away) != 0 {
		t.Errorf("after the build, %v away (%v)", away, err)
	}
}
