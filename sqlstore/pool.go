package sqlstore

import (
	"database/sql"
	"time"
)

// Pool sizes a user base's pool of connections: at most conns open, all
// of them kept while idle, each closed once unused for idleFor (0: kept
// for good).
//
// database/sql keeps only two idle connections unless told otherwise.
// With a dozen print terminals' lookups overlapping, every lookup beyond
// the second then opened a connection and closed it after use: for
// SQLite a file opened and its schema read again, for PostgreSQL a TCP
// connection and a login. bench/identify with no sync, three pairs side
// by side: 1,244 opens in 12 s against 9, and a p99 inside roster serve
// of 0.66–0.76 ms against 0.45–0.63 ms with every connection kept.
//
// A pool unused for idleFor closes every connection, its last included:
// after 5 quiet minutes the next lookup opens one again, and SQLite then
// copies the WAL into the file and removes it. Each process has its own
// pool, so a PostgreSQL node counts conns for roster serve and as many
// for each sync process running (README, "Running several nodes").
func Pool(sqldb *sql.DB, conns int, idleFor time.Duration) {
	sqldb.SetMaxOpenConns(conns)
	sqldb.SetMaxIdleConns(conns)
	sqldb.SetConnMaxIdleTime(idleFor)
}
