package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// countingDriver counts the connections database/sql opens: a pool that
// closes idle connections it will need again shows as more opens.
type countingDriver struct{ opens atomic.Int64 }

func (d *countingDriver) Open(string) (driver.Conn, error) {
	d.opens.Add(1)
	return countingConn{}, nil
}

type countingConn struct{}

func (countingConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (countingConn) Close() error                        { return nil }
func (countingConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }

type countingConnector struct{ d *countingDriver }

func (c countingConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open("") }
func (c countingConnector) Driver() driver.Driver                        { return c.d }

// TestPoolKeepsItsConnections: rounds of eight overlapping lookups open
// eight connections once, and reuse them.
func TestPoolKeepsItsConnections(t *testing.T) {
	d := &countingDriver{}
	sqldb := sql.OpenDB(countingConnector{d})
	defer sqldb.Close()
	Pool(sqldb, 8, time.Minute)
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		var held []*sql.Conn
		for i := 0; i < 8; i++ {
			c, err := sqldb.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
	}
	if n := d.opens.Load(); n != 8 {
		t.Errorf("5 rounds of 8 overlapping uses opened %d connections; want 8, each kept for the next round", n)
	}
	if s := sqldb.Stats(); s.MaxIdleClosed != 0 || s.Idle != 8 {
		t.Errorf("pool after the rounds: %d idle, %d closed for the idle limit; want 8 idle, none closed", s.Idle, s.MaxIdleClosed)
	}
}
