package sqlstore

import (
	"context"
	"errors"
	"testing"
)

func TestRebind(t *testing.T) {
	pg := &Dialect{Numbered: true}
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`WHERE a = ? AND b IN (?, ?)`, `WHERE a = $1 AND b IN ($2, $3)`},
		{`WHERE a LIKE ? ESCAPE '\' OR b LIKE ? ESCAPE '\'`, `WHERE a LIKE $1 ESCAPE '\' OR b LIKE $2 ESCAPE '\'`},
		{`WHERE s = 'why?' AND t = ?`, `WHERE s = 'why?' AND t = $1`},
		{`WHERE s = 'it''s?' AND t = ?`, `WHERE s = 'it''s?' AND t = $1`},
	}
	for _, tt := range tests {
		if got := pg.rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	lite := &Dialect{}
	if got := lite.rebind(`a = ?`); got != `a = ?` {
		t.Errorf("SQLite's query changed: %q", got)
	}
}

// rowContext: an ended context's error before the statement; in process,
// a context that cannot end (and keeps ctx's values); elsewhere ctx
// itself. rowErr: a statement's failure after ctx ended is ctx's error.
func TestRowContext(t *testing.T) {
	type key struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	lite, pg := &Dialect{InProcess: true}, &Dialect{}
	rctx, err := lite.rowContext(ctx)
	if err != nil || rctx.Done() != nil || rctx.Value(key{}) != "v" {
		t.Fatalf("in process: %v, done %v, value %v; want a context that cannot end, with ctx's values", err, rctx.Done(), rctx.Value(key{}))
	}
	if rctx, err := pg.rowContext(ctx); err != nil || rctx != ctx {
		t.Fatalf("over a network: %v, %v; want ctx itself", rctx, err)
	}
	closed := errors.New("sql: statement is closed")
	if got := rowErr(ctx, closed); got != closed {
		t.Fatalf("rowErr before the end: %v", got)
	}
	cancel()
	for _, d := range []*Dialect{lite, pg} {
		if _, err := d.rowContext(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("after the end (in process %v): %v, want context.Canceled", d.InProcess, err)
		}
	}
	if got := rowErr(ctx, closed); !errors.Is(got, context.Canceled) {
		t.Fatalf("rowErr after the end: %v, want context.Canceled", got)
	}
	if got := rowErr(ctx, nil); got != nil {
		t.Fatalf("rowErr of a statement that succeeded: %v", got)
	}
}
