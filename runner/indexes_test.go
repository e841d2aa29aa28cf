package runner

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/postgres"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// A sync into an empty user base runs without the store's deferrable
// indexes and builds them once it has written, whether it succeeded or
// failed; a sync into a user base with users keeps them all along.
func TestASyncIntoAnEmptyUserBaseBuildsSomeIndexesAfter(t *testing.T) {
	testDeferredDuringAFirstSync(t, testRunner, []string{"cards_number", "cards_user", "users_dn_key", "users_login_source", "users_print_code", "users_source", "users_source_anchor"})
}

// So does a sync into PostgreSQL, with its foreign keys.
func TestASyncIntoAnEmptyPostgreSQLUserBaseAddsItsKeysAfter(t *testing.T) {
	labenv.Require(t)
	testDeferredDuringAFirstSync(t, postgresRunner, []string{"cards_number", "cards_user", "cards_user_id_fkey",
		"users_dn_key", "users_login_source", "users_print_code", "users_source", "users_source_anchor", "users_source_id_fkey"})
}

// postgresRunner is testRunner on a new database of the lab's
// PostgreSQL.
func postgresRunner(t *testing.T) *Runner {
	r := testRunner(t)
	db, err := postgres.Open(context.Background(), labenv.Require(t).PostgresDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.Store = db
	return r
}

// A sync into PostgreSQL writes the changes of users it has: an update
// keeps its fingerprint, all 64 bits of it (PostgreSQL once typed the
// parameter as a 32-bit integer and refused nearly every update), and
// the sync after finds the users unchanged.
func TestAPostgreSQLSyncUpdatesAndDisables(t *testing.T) {
	labenv.Require(t)
	ctx := context.Background()
	r := postgresRunner(t)
	s, src := graphSource(t, 50)
	id, _ := r.Store.SourceID(ctx, src.Name)
	if res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{}); err != nil || res.Run.Created != 50 {
		t.Fatalf("first sync: %v, %+v", err, res)
	}
	users := graphUsers(50)
	users[7]["displayName"] = "Person Seven"
	users[8]["accountEnabled"] = false
	s.SetUsers(users)
	res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{})
	if err != nil || res.Run.Updated != 1 || res.Run.Disabled != 1 || res.Run.Failed != 0 {
		t.Fatalf("a sync with one user renamed and one disabled: %v, %+v", err, res)
	}
	if u, err := r.Store.UserByLogin(ctx, "person7@corp.test"); err != nil || u.Name != "Person Seven" {
		t.Fatalf("person7 after the sync: %+v, %v", u, err)
	}
	res, err = r.Sync(ctx, src, id, reconcile.Options{}, Hooks{})
	if err != nil || res.Run.Updated != 0 || res.Run.Disabled != 0 {
		t.Fatalf("the sync after: %v, %+v", err, res)
	}
}

func testDeferredDuringAFirstSync(t *testing.T, testRunner func(*testing.T) *Runner, want []string) {
	ctx := context.Background()
	missingDuring := func(r *Runner) (*[]string, func(reconcile.Progress)) {
		var seen []string
		return &seen, func(reconcile.Progress) {
			if seen == nil {
				m, err := r.Store.DeferredIndexes(ctx)
				if err != nil {
					t.Error(err)
				}
				seen = append([]string{}, m...)
			}
		}
	}

	t.Run("a first sync that succeeds", func(t *testing.T) {
		r := testRunner(t)
		_, src := graphSource(t, 1500)
		id, _ := r.Store.SourceID(ctx, src.Name)
		during, progress := missingDuring(r)
		res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{Progress: progress})
		if err != nil || res.Run.Created != 1500 {
			t.Fatalf("first sync: %v, %+v", err, res)
		}
		if slices.Sort(*during); !slices.Equal(*during, want) {
			t.Errorf("indexes away during the first sync: %v, want %v", *during, want)
		}
		if m, err := r.Store.DeferredIndexes(ctx); err != nil || len(m) != 0 {
			t.Fatalf("after the first sync, indexes still away: %v, %v", m, err)
		}
		if u, err := r.Store.UserByLogin(ctx, "person12@corp.test"); err != nil || len(u.Cards) != 1 || u.Cards[0].Number != "100012" {
			t.Fatalf("person12 after the build: %+v, %v", u, err)
		}

		during, progress = missingDuring(r)
		if _, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{Progress: progress}); err != nil {
			t.Fatal(err)
		}
		if *during == nil || len(*during) != 0 {
			t.Errorf("indexes away during a sync into a user base with users: %v", *during)
		}
	})

	// The unique card index may be away (SQLite): the sync itself keeps
	// a number to its first holder, and the build finds nothing twice.
	t.Run("a first sync whose directory lists a card twice", func(t *testing.T) {
		r := testRunner(t)
		s, src := graphSource(t, 1500)
		users := graphUsers(1500)
		users[1400]["employeeId"] = users[12]["employeeId"]
		s.SetUsers(users)
		id, _ := r.Store.SourceID(ctx, src.Name)
		res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{})
		if err != nil || res.Run.Created != 1500 || len(res.Run.EntryErrors) != 1 || !strings.Contains(res.Run.EntryErrors[0].Message, "person12@corp.test") {
			t.Fatalf("first sync with card 100012 listed twice: %v, %+v", err, res)
		}
		if m, err := r.Store.DeferredIndexes(ctx); err != nil || len(m) != 0 {
			t.Fatalf("after the first sync, indexes still away: %v, %v", m, err)
		}
		if u, err := r.Store.UserByCard(ctx, "100012"); err != nil || u.Login != "person12@corp.test" {
			t.Errorf("card 100012 is %+v's (%v), want its first holder's", u, err)
		}
		if u, err := r.Store.UserByLogin(ctx, "person1400@corp.test"); err != nil || len(u.Cards) != 0 {
			t.Errorf("person1400, who lists person12's card: %+v, %v", u, err)
		}
	})

	t.Run("a first sync cancelled half-way", func(t *testing.T) {
		r := testRunner(t)
		_, src := graphSource(t, 1500)
		id, _ := r.Store.SourceID(ctx, src.Name)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		during, progress := missingDuring(r)
		stop := func(p reconcile.Progress) {
			progress(p)
			cancel()
		}
		if _, err := r.Sync(cctx, src, id, reconcile.Options{}, Hooks{Progress: stop}); err == nil {
			t.Fatal("a cancelled first sync succeeded")
		}
		if len(*during) != len(want) {
			t.Errorf("indexes away during the cancelled sync: %v, want %v", *during, want)
		}
		if m, err := r.Store.DeferredIndexes(ctx); err != nil || len(m) != 0 {
			t.Fatalf("after the cancelled sync, indexes still away: %v, %v", m, err)
		}
	})

	t.Run("a first sync that fails half-way", func(t *testing.T) {
		r := testRunner(t)
		s, src := graphSource(t, 1500)
		s.RetryAfter = 0
		id, _ := r.Store.SourceID(ctx, src.Name)
		during, progress := missingDuring(r)
		cut := func(p reconcile.Progress) {
			progress(p)
			if p.Seen == 999 {
				s.Fail(http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable,
					http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
			}
		}
		if _, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{Progress: cut}); roster.ErrorCode(err) != roster.EUNAVAILABLE {
			t.Fatalf("a cut first sync: %v", err)
		}
		if len(*during) != len(want) {
			t.Errorf("indexes away during the cut sync: %v, want %v", *during, want)
		}
		if m, err := r.Store.DeferredIndexes(ctx); err != nil || len(m) != 0 {
			t.Fatalf("after the cut sync, indexes still away: %v, %v", m, err)
		}
	})
}

// What a build settled reaches the log of the sync that built it, or of
// the next sync when the build came before any (at the opening of the
// user base): here, a card number that two writers stored while a
// first sync, killed, had the indexes away; the next sync builds them.
func TestASyncLogsWhatTheBuildSettled(t *testing.T) {
	ctx := context.Background()
	r := testRunner(t)
	var log strings.Builder
	r.Log = slog.New(slog.NewTextHandler(&log, nil))
	_, src := graphSource(t, 20)
	id, _ := r.Store.SourceID(ctx, src.Name)
	if _, err := r.Store.DeferIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ source, login string }{{"other", "guest"}, {"third", "visitor"}} {
		sid, _ := r.Store.SourceID(ctx, s.source)
		u := storetest.NewUser(s.login, "555")
		if _, err := r.Store.Apply(ctx, sid, []roster.Change{{Kind: roster.Create, Login: s.login, User: u}}); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := r.Sync(ctx, src, id, reconcile.Options{}, Hooks{}); err != nil || res.Run.Created != 20 {
		t.Fatalf("sync: %v, %+v", err, res)
	}
	if !strings.Contains(log.String(), "1 cards were stored a second time") {
		t.Errorf("the sync's log does not say what the build settled:\n%s", log.String())
	}
	if u, err := r.Store.UserByCard(ctx, "555"); err != nil || u.Login != "guest" {
		t.Errorf("card 555 is %+v's (%v), want guest's, who had it first", u, err)
	}
}
