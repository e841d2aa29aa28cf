package storetest

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
)

func testCursorsAreKeptPerSource(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, corp := open(t, o)
	other, err := db.SourceID(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := db.Cursor(ctx, corp); err != nil || !c.IsZero() {
		t.Fatalf("a new source has the cursor %+v, %v", c, err)
	}
	want := roster.Cursor{Kind: roster.CursorUSN, Server: "CN=NTDS Settings,CN=DC1|inv", Value: "4711", Scope: "abc"}
	if err := db.SaveCursor(ctx, corp, want); err != nil {
		t.Fatal(err)
	}
	want.Value = "4800"
	if err := db.SaveCursor(ctx, corp, want); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Cursor(ctx, corp); err != nil || c != want {
		t.Fatalf("Cursor = %+v, %v; want %+v", c, err, want)
	}
	if c, _ := db.Cursor(ctx, other); !c.IsZero() {
		t.Fatalf("another source got the cursor %+v", c)
	}
	var n int
	if err := r.QueryRow(`SELECT count(*) FROM sync_cursors`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d cursor rows, %v; want 1 (replaced, not added)", n, err)
	}
	if err := db.SaveCursor(ctx, corp, roster.Cursor{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Cursor(ctx, corp); !c.IsZero() {
		t.Fatalf("a zero cursor did not clear it: %+v", c)
	}
}
