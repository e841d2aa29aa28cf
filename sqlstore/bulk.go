package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

// bulkIdle is how long the bulk connection outlives its last write: long
// enough to span the gap between two batches of one job (the caller
// shows a batch before it writes the next), short enough that a serving
// node does not keep the large cache for long.
const bulkIdle = 2 * time.Second

// bulkConn is a connection kept for bulk writes, its page cache raised
// (Dialect.BulkCache). The batches of one job share it: each batch
// touches every page of an index, and a cache that survives from one
// batch to the next reads none of them again (100,000 first print codes:
// 5.3 s on SQLite, against 7.3 s with a fresh cache each batch and 7.5 s
// with the default cache). It is closed, not pooled, once idle, which
// frees the cache.
type bulkConn struct {
	mu   sync.Mutex
	conn *sql.Conn
	gen  int // bumped by each write, so that an idle timer set before it does nothing
}

// inBulkTx is inTx for a bulk write, on the bulk connection where the
// dialect has a BulkCache, and plainly otherwise.
func (db *DB) inBulkTx(ctx context.Context, what string, fn func(*tx) error) error {
	if db.d.BulkCache == "" {
		return db.inTx(ctx, what, fn)
	}
	return db.withBulk(ctx, what, func(conn *sql.Conn) error {
		return db.runTx(ctx, what, db.connBegin(conn), fn)
	})
}

// connBegin returns what begins a transaction on conn, for runTx.
func (db *DB) connBegin(conn *sql.Conn) func(context.Context, *sql.TxOptions) (*tx, error) {
	return func(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
		t, err := conn.BeginTx(ctx, opts)
		if err != nil {
			return nil, err
		}
		return &tx{Tx: t, d: db.db.d, conn: conn}, nil
	}
}

// bulkRead runs the reads of a bulk job: on the bulk connection, outside
// a transaction, where the dialect has a BulkCache, so that the pages
// they read are in the cache when the job writes; on the pool otherwise.
func (db *DB) bulkRead(ctx context.Context, what string, fn func(querier) error) error {
	if db.d.BulkCache == "" {
		return fn(db.db)
	}
	return db.withBulk(ctx, what, func(conn *sql.Conn) error {
		return fn(connQuerier{conn, db.db.d})
	})
}

// connQuerier is a querier on one connection, rewriting placeholders for
// the dialect as sqlDB does.
type connQuerier struct {
	*sql.Conn
	d *Dialect
}

func (c connQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.Conn.QueryContext(ctx, c.d.rebind(q), args...)
}

// withBulk runs fn on the bulk connection, made if need be, and closes
// the connection once it has been idle for bulkIdle. Bulk work takes
// turns.
func (db *DB) withBulk(ctx context.Context, what string, fn func(*sql.Conn) error) error {
	b := &db.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil {
		conn, err := db.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if _, err := conn.ExecContext(ctx, db.d.BulkCache); err != nil {
			conn.Close()
			return fmt.Errorf("store: %s: %w", what, err)
		}
		b.conn = conn
	}
	b.gen++
	gen := b.gen
	defer time.AfterFunc(bulkIdle, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.gen == gen {
			b.closeLocked()
		}
	})
	return fn(b.conn)
}

// close closes the bulk connection, if there is one.
func (b *bulkConn) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeLocked()
}

func (b *bulkConn) closeLocked() {
	if b.conn == nil {
		return
	}
	// Marked bad, the connection is closed rather than given back to the
	// pool with its large cache.
	b.conn.Raw(func(any) error { return driver.ErrBadConn })
	b.conn.Close()
	b.conn = nil
	b.gen++
}
