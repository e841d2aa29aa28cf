package storetest

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
)

// LookupSourceID finds a source by name without creating it: a dry run
// writes nothing.
func testLookupSourceID(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, corp := open(t, o)
	lab, err := db.SourceID(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{"corp": corp, "lab": lab} {
		if id, err := db.LookupSourceID(ctx, name); err != nil || id != want {
			t.Errorf("LookupSourceID(%s) = %d, %v; want %d", name, id, err, want)
		}
	}
	for _, name := range []string{"nowhere", ""} {
		id, err := db.LookupSourceID(ctx, name)
		if roster.ErrorCode(err) != roster.ENOTFOUND || id != 0 {
			t.Errorf("LookupSourceID(%q) = %d, %v; want 0 and ENOTFOUND", name, id, err)
		}
	}
	if n := count(t, r, `SELECT count(*) FROM sources`); n != 2 {
		t.Errorf("%d sources are stored after the lookups, want 2: a lookup creates none", n)
	}
}
