package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// hotStmts holds the prepared statements of the few queries a print
// terminal makes at every badge or code: its token, the user by card or
// code, and the user's groups. Parsing and planning a query each time
// took a quarter of the lookups' CPU on SQLite. Only fixed query texts
// belong here; the cache never shrinks.
type hotStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// hot returns the prepared statement for q, preparing it on first use.
// database/sql prepares it again on each pooled connection as needed. The
// prepare runs outside the lock and under the request's context, so that
// a database that hangs holds up only the requests that wait for it.
func (c *sqlDB) hot(ctx context.Context, q string) (*sql.Stmt, error) {
	c.hotStmts.mu.Lock()
	s := c.hotStmts.m[q]
	c.hotStmts.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := c.DB.PrepareContext(ctx, c.d.rebind(q))
	if err != nil {
		return nil, err
	}
	c.hotStmts.mu.Lock()
	defer c.hotStmts.mu.Unlock()
	if first := c.hotStmts.m[q]; first != nil { // prepared meanwhile
		s.Close()
		return first, nil
	}
	if c.hotStmts.m == nil {
		c.hotStmts.m = map[string]*sql.Stmt{}
	}
	c.hotStmts.m[q] = s
	return s, nil
}

// hotQueryRow is QueryRowContext through a prepared statement.
func (c *sqlDB) hotQueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := c.hot(ctx, q)
	if err != nil {
		return c.QueryRowContext(ctx, q, args...) // it fails the same way, or works unprepared
	}
	return s.QueryRowContext(ctx, args...)
}

// hotQuerier runs QueryContext through prepared statements, for helpers
// that take a querier.
type hotQuerier struct{ c *sqlDB }

func (h hotQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := h.c.hot(ctx, q)
	if err != nil {
		return h.c.QueryContext(ctx, q, args...)
	}
	return s.QueryContext(ctx, args...)
}

// closeHot closes the prepared statements, before the database closes.
func (c *sqlDB) closeHot() {
	c.hotStmts.mu.Lock()
	defer c.hotStmts.mu.Unlock()
	for q, s := range c.hotStmts.m {
		s.Close()
		delete(c.hotStmts.m, q)
	}
}
