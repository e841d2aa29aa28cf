package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// copyTables are the tables Copy moves, parents before children. Leases
// are left behind: they belong to the processes of the old store.
var copyTables = []string{
	"sources", "users", "user_aliases", "cards", "groups", "group_members",
	"runs", "run_entry_errors", "run_held_users",
	"admins", "sessions", "api_tokens", "sync_cursors", "lockouts",
}

// idTables have an id column that other rows point to; their IDs are
// kept, and the destination's counters moved past them.
var idTables = map[string]bool{
	"sources": true, "users": true, "user_aliases": true, "cards": true, "groups": true,
	"runs": true, "run_entry_errors": true, "admins": true, "api_tokens": true,
}

// CopyStats is how many rows Copy moved, by table.
type CopyStats map[string]int64

// Copy moves everything from src into dst, which must be empty: users,
// cards, groups, runs with their history, sources with their sealed
// passwords, admins, tokens and cursors, with their IDs unchanged, so
// links, bookmarks and the audit trail stay valid. It reads src in one
// transaction and writes dst in one: dst ends with all of it or none.
// Both must have the same schema steps (open both first: opening
// migrates).
//
// Sealed passwords move as they are: dst's nodes need the same secret key.
//
// Errors: ECONFLICT when dst holds data already; EINVALID when the two
// schemas differ.
func Copy(ctx context.Context, dst, src *DB) (CopyStats, error) {
	a, err := src.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	b, err := dst.Migrations(ctx)
	if err != nil {
		return nil, err
	}
	if strings.Join(a, " ") != strings.Join(b, " ") {
		return nil, rosterError("Copy", roster.EINVALID,
			"the two databases are at different schema steps (%s has %d, %s has %d); run the same roster version on both", src, len(a), dst, len(b))
	}
	// One snapshot of the whole source, even a live one: no card or
	// membership of a user the copy does not hold.
	rtx, err := src.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: src.d.Snapshot})
	if err != nil {
		return nil, fmt.Errorf("store: copy: read %s: %w", src, err)
	}
	defer rtx.Rollback()
	stats := CopyStats{}
	err = dst.inTx(ctx, "copy", func(wtx *tx) error {
		for _, table := range copyTables {
			var n int
			if err := wtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
				return fmt.Errorf("store: copy: %s: %w", table, err)
			}
			if n > 0 {
				return rosterError("Copy", roster.ECONFLICT,
					"%s is not empty (its table %s has %d rows); copy into a new, empty database", dst, table, n)
			}
		}
		for _, table := range copyTables {
			n, err := copyTable(ctx, wtx, rtx, dst.d, table)
			if err != nil {
				return fmt.Errorf("store: copy: %s: %w", table, err)
			}
			stats[table] = n
			if idTables[table] && dst.d.ResetSequence != "" && n > 0 {
				if _, err := wtx.Tx.ExecContext(ctx, fmt.Sprintf(dst.d.ResetSequence, table, table)); err != nil {
					return fmt.Errorf("store: copy: %s: move the ID counter: %w", table, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stats, nil
}

// copyBatch is how many rows go in one INSERT: few round trips, and
// fewer bound values than any database limits.
const copyBatch = 50

func copyTable(ctx context.Context, wtx, rtx *tx, d Dialect, table string) (int64, error) {
	// The destination's column types decide each value's conversion.
	probe, err := wtx.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return 0, err
	}
	types, err := probe.ColumnTypes()
	probe.Close()
	if err != nil {
		return 0, err
	}
	cols := make([]string, len(types))
	kinds := make([]string, len(types))
	for i, ct := range types {
		cols[i], kinds[i] = ct.Name(), strings.ToUpper(ct.DatabaseTypeName())
	}
	rows, err := rtx.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	row := "(" + placeholders(len(cols)) + ")"
	var n int64
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		k := len(args) / len(cols)
		q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(row+", ", k), ", ")
		if _, err := wtx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		args = args[:0]
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			args = append(args, convert(v, kinds[i]))
		}
		n++
		if n%copyBatch == 0 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// convert turns a value read from one database into what a column of the
// other takes: SQLite keeps booleans as 0/1 and times as text, where
// PostgreSQL has BOOL and TIMESTAMPTZ.
func convert(v any, kind string) any {
	switch x := v.(type) {
	case int64:
		if kind == "BOOL" || kind == "BOOLEAN" {
			return x != 0
		}
	case bool:
		if kind != "BOOL" && kind != "BOOLEAN" {
			if x {
				return int64(1)
			}
			return int64(0)
		}
	case time.Time:
		if kind != "TIMESTAMPTZ" && kind != "TIMESTAMP" {
			return timeValue(x)
		}
	case []byte:
		if kind == "TEXT" || kind == "VARCHAR" {
			return string(x)
		}
	}
	return v
}
