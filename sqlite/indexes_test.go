package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlite"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// The deferrable indexes are those the schema steps made, to the letter:
// a build after a sync makes the same indexes.
func TestTheDeferrableIndexesAreTheSchemas(t *testing.T) {
	db, path, _ := open(t)
	r := raw(t, path)
	for _, d := range sqlite.Dialect.Deferrable {
		var got string
		if err := r.QueryRow(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql = ?`, d.Make).Scan(&got); err != nil || got != d.Name {
			t.Errorf("no index of the schema is %q, named %s: %q, %v", d.Make, d.Name, got, err)
		}
	}
	if m, err := db.DeferredIndexes(context.Background()); err != nil || len(m) != 0 {
		t.Fatalf("a new user base lacks %v, %v", m, err)
	}
	// A query that names an index (INDEXED BY) fails while it is away.
	files, err := filepath.Glob("../sqlstore/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("sqlstore's sources: %v, %v", files, err)
	}
	hinted := regexp.MustCompile(`(?i:INDEXED BY) +([a-z_]+)`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range hinted.FindAllStringSubmatch(string(src), -1) {
			for _, d := range sqlite.Dialect.Deferrable {
				if d.Name == m[1] {
					t.Errorf("%s names the deferrable index %s in a hint", f, d.Name)
				}
			}
		}
	}
}

// A sync killed before its build leaves the indexes away; lookups still
// answer, and the next sync's DeferIndexes, finding users, builds them;
// so does the next opening of the user base, unless a sync holds a
// lease (that sync builds them when it ends).
func TestDeferIndexesBuildsWhatAKilledSyncLeftAway(t *testing.T) {
	ctx := context.Background()
	db, path, source := open(t)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) != len(sqlite.Dialect.Deferrable) {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v; want all %d", dropped, err, len(sqlite.Dialect.Deferrable))
	}
	if m, _ := db.DeferredIndexes(ctx); len(m) != len(sqlite.Dialect.Deferrable) {
		t.Fatalf("DeferIndexes on an empty user base left %v away, want all %d", m, len(sqlite.Dialect.Deferrable))
	}
	ann := storetest.NewUser("ann", "0451")
	ann.PrintCodeHash = "code-hash"
	if _, err := db.Apply(ctx, source, []roster.Change{{Kind: roster.Create, Login: "ann", User: ann}}); err != nil {
		t.Fatal(err)
	}
	if u, err := db.UserByLogin(ctx, "ann"); err != nil || len(u.Cards) != 1 || u.Cards[0].Number != "0451" {
		t.Fatalf("ann, indexes away: %+v, %v", u, err)
	}

	db.Now = time.Now // the clock the reopened user base reads the lease by
	if _, err := db.AcquireLease(ctx, source, "node-a", time.Hour); err != nil {
		t.Fatal(err)
	}
	reopened, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := reopened.DeferredIndexes(ctx)
	reopened.Close()
	if len(m) != len(sqlite.Dialect.Deferrable) {
		t.Fatalf("opened while a sync holds a lease, the user base built indexes: %v away", m)
	}
	if err := db.ReleaseLease(ctx, source, "node-a"); err != nil {
		t.Fatal(err)
	}
	reopened, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = reopened.DeferredIndexes(ctx)
	reopened.Close()
	if len(m) != 0 {
		t.Fatalf("opened with no sync going, the user base left %v away", m)
	}

	// Away again, as a killed sync leaves them: the next sync builds them.
	if _, err := raw(t, path).Exec("DROP INDEX users_dn_key"); err != nil {
		t.Fatal(err)
	}
	dropped, err := db.DeferIndexes(ctx)
	if err != nil || len(dropped) != 0 {
		t.Fatalf("DeferIndexes on a user base with users dropped %v, %v; want none", dropped, err)
	}
	if m, _ := db.DeferredIndexes(ctx); len(m) != 0 {
		t.Fatalf("DeferIndexes on a user base with users left %v away", m)
	}
	if u, err := db.UserByLogin(ctx, "ann"); err != nil || u.PrintCodeHash != "code-hash" {
		t.Fatalf("ann, indexes back: %+v, %v", u, err)
	}
}

// Bulk print codes check each code against the print-code index, one
// statement a user: with the deferrable indexes away (a first sync still
// writing, or killed), they build them first rather than read the whole
// table for every code, and the codes are set and checked as ever.
func TestBulkPrintCodesBuildTheIndexesFirst(t *testing.T) {
	ctx := context.Background()
	db, path, source := open(t)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) != len(sqlite.Dialect.Deferrable) {
		t.Fatalf("DeferIndexes on an empty user base dropped %v, %v", dropped, err)
	}
	taken := storetest.NewUser("ann", "0451")
	taken.PrintCodeHash = "hash-taken"
	bob := storetest.NewUser("bob", "0452")
	cid := storetest.NewUser("cid", "0453")
	ids, err := db.Apply(ctx, source, []roster.Change{
		{Kind: roster.Create, Login: "ann", User: taken},
		{Kind: roster.Create, Login: "bob", User: bob},
		{Kind: roster.Create, Login: "cid", User: cid},
	})
	if err != nil || len(ids) != 3 {
		t.Fatalf("Apply = %v, %v", ids, err)
	}
	if m, _ := db.DeferredIndexes(ctx); len(m) != len(sqlite.Dialect.Deferrable) {
		t.Fatalf("the indexes came back before the print codes: %v away", m)
	}
	// Either call of the bulk path builds them: it starts with either.
	if taken, err := db.PrintCodeHashesTaken(ctx, []string{"hash-taken", "hash-new"}); err != nil || len(taken) != 1 || !taken["hash-taken"] {
		t.Fatalf("PrintCodeHashesTaken = %v, %v; want hash-taken only", taken, err)
	}
	if m, err := db.DeferredIndexes(ctx); err != nil || len(m) != 0 {
		t.Fatalf("after PrintCodeHashesTaken, %v away (%v)", m, err)
	}
	r := raw(t, path)
	for _, d := range sqlite.Dialect.Deferrable { // away again
		if _, err := r.Exec(d.Drop); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.SetFirstPrintCodeHashes(ctx, []roster.FirstPrintCode{{UserID: ids[1], Hash: "hash-new"}, {UserID: ids[2], Hash: "hash-taken"}})
	if err != nil || len(got) != 2 || got[0] != roster.FirstCodeSet || got[1] != roster.FirstCodeTaken {
		t.Fatalf("SetFirstPrintCodeHashes = %v, %v; want bob's set and cid's taken (ann holds it)", got, err)
	}
	if m, err := db.DeferredIndexes(ctx); err != nil || len(m) != 0 {
		t.Fatalf("after SetFirstPrintCodeHashes, %v away (%v)", m, err)
	}
	if u, err := db.UserByLogin(ctx, "bob"); err != nil || u.PrintCodeHash != "hash-new" {
		t.Fatalf("bob = %+v, %v", u, err)
	}
}

// An index whose build fails leaves the others to be built, and the
// error names it.
func TestABuildThatFailsBuildsTheOthers(t *testing.T) {
	ctx := context.Background()
	_, path, _ := open(t)
	d := sqlite.Dialect
	d.Deferrable = append([]sqlstore.Deferred{sqlstore.DeferredIndex("CREATE INDEX zz_broken ON no_such_table (x)")}, d.Deferrable...)
	db := sqlstore.New(raw(t, path), d, path)
	if dropped, err := db.DeferIndexes(ctx); err != nil || len(dropped) != len(d.Deferrable) {
		t.Fatalf("DeferIndexes: %v, %v", dropped, err)
	}
	err := db.BuildIndexes(ctx)
	if err == nil || !strings.Contains(err.Error(), "build zz_broken") {
		t.Fatalf("BuildIndexes with one that cannot be built: %v", err)
	}
	if m, err := db.DeferredIndexes(ctx); err != nil || !slices.Equal(m, []string{"zz_broken"}) {
		t.Errorf("away after the build: %v (%v), want only zz_broken", m, err)
	}
}
