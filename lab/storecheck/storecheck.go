// Package storecheck looks at a roster user base with plain SQL, for the
// fault-injection suite and bench/faults: a snapshot of what a failed run
// must not take away (users, groups, memberships, the incremental
// cursor), the comparison of two snapshots, and the store's integrity
// checks. It reads SQLite files and PostgreSQL databases alike, and
// writes nothing.
package storecheck

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/rosterhq/roster/postgres"
)

// DB is an open user base.
type DB struct {
	*sql.DB
	Postgres bool
}

// Open opens the user base at location: a postgres:// URL, or the path
// of an SQLite file. The caller closes it.
func Open(location string) (*DB, error) {
	if postgres.IsDSN(location) {
		db, err := postgres.Raw(location)
		if err != nil {
			return nil, err
		}
		return &DB{DB: db, Postgres: true}, nil
	}
	db, err := sql.Open("sqlite", location+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	return &DB{DB: db}, nil
}

// Snapshot is what a run must not take away, and the latest run.
type Snapshot struct {
	Users   map[int64]User
	Groups  map[int64]string // by ID: the group's name
	Members map[Member]bool  // every membership
	Cursors map[int64]string // by source ID: the cursor, all its columns
	Runs    int              // runs recorded
	Last    Run              // the latest run
	Holders map[int64]string // by source ID: the lease holder
}

// User is a stored user, as far as removals go.
type User struct {
	Login    string
	Disabled bool
}

// Member is a group's member, by user DN as stored.
type Member struct {
	Group  int64
	UserDN string
}

// Run is a recorded run.
type Run struct {
	ID     int64
	Mode   string
	Status string
	Error  string
}

// Take reads a snapshot.
func Take(ctx context.Context, db *DB) (*Snapshot, error) {
	s := &Snapshot{Users: map[int64]User{}, Groups: map[int64]string{}, Members: map[Member]bool{}, Cursors: map[int64]string{}, Holders: map[int64]string{}}
	err := each(ctx, db, "SELECT id, login, disabled FROM users", func(r *sql.Rows) error {
		var id int64
		var u User
		err := r.Scan(&id, &u.Login, &u.Disabled)
		s.Users[id] = u
		return err
	})
	if err == nil {
		err = each(ctx, db, "SELECT id, name FROM groups", func(r *sql.Rows) error {
			var id int64
			var name string
			err := r.Scan(&id, &name)
			s.Groups[id] = name
			return err
		})
	}
	if err == nil {
		err = each(ctx, db, "SELECT group_id, user_dn FROM group_members", func(r *sql.Rows) error {
			var m Member
			err := r.Scan(&m.Group, &m.UserDN)
			s.Members[m] = true
			return err
		})
	}
	if err == nil {
		err = each(ctx, db, "SELECT source_id, kind, server, value, scope, saved_at FROM sync_cursors", func(r *sql.Rows) error {
			var id int64
			var kind, server, value, scope string
			var saved any
			err := r.Scan(&id, &kind, &server, &value, &scope, &saved)
			s.Cursors[id] = fmt.Sprintf("%s %s %s %s saved %v", kind, server, value, scope, saved)
			return err
		})
	}
	if err == nil {
		err = each(ctx, db, "SELECT source_id, holder FROM sync_leases", func(r *sql.Rows) error {
			var id int64
			var holder string
			err := r.Scan(&id, &holder)
			s.Holders[id] = holder
			return err
		})
	}
	if err == nil {
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM runs").Scan(&s.Runs)
	}
	if err == nil && s.Runs > 0 {
		err = db.QueryRowContext(ctx, "SELECT id, mode, status, error FROM runs ORDER BY id DESC LIMIT 1").
			Scan(&s.Last.ID, &s.Last.Mode, &s.Last.Status, &s.Last.Error)
	}
	if err != nil {
		return nil, fmt.Errorf("storecheck: reading the user base: %w", err)
	}
	return s, nil
}

// RunsAfter returns the runs recorded after the run with ID id, oldest
// first.
func RunsAfter(ctx context.Context, db *DB, id int64) ([]Run, error) {
	var runs []Run
	q := "SELECT id, mode, status, error FROM runs WHERE id > " + fmt.Sprint(id) + " ORDER BY id"
	err := each(ctx, db, q, func(r *sql.Rows) error {
		var run Run
		err := r.Scan(&run.ID, &run.Mode, &run.Status, &run.Error)
		runs = append(runs, run)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storecheck: reading the runs: %w", err)
	}
	return runs, nil
}

func each(ctx context.Context, db *DB, q string, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Loss is what a later snapshot lacks of an earlier one.
type Loss struct {
	UsersDisabled   int  // enabled before, disabled after
	UsersDeleted    int  // gone
	GroupsLost      int  // gone
	MembershipsLost int  // gone
	CursorChanged   bool // a cursor differs, appeared or went
	Examples        []string
}

// None reports whether nothing was lost.
func (l Loss) None() bool {
	return l.UsersDisabled == 0 && l.UsersDeleted == 0 && l.GroupsLost == 0 && l.MembershipsLost == 0 && !l.CursorChanged
}

func (l Loss) String() string {
	if l.None() {
		return "nothing lost"
	}
	s := fmt.Sprintf("%d users disabled, %d deleted, %d groups and %d memberships removed", l.UsersDisabled, l.UsersDeleted, l.GroupsLost, l.MembershipsLost)
	if l.CursorChanged {
		s += ", the cursor changed"
	}
	if len(l.Examples) > 0 {
		s += " (" + strings.Join(l.Examples, "; ") + ")"
	}
	return s
}

const maxExamples = 5

// Lost compares s, taken after a run, with before.
func (s *Snapshot) Lost(before *Snapshot) Loss {
	var l Loss
	example := func(format string, args ...any) {
		if len(l.Examples) < maxExamples {
			l.Examples = append(l.Examples, fmt.Sprintf(format, args...))
		}
	}
	for id, u := range before.Users {
		switch a, ok := s.Users[id]; {
		case !ok:
			l.UsersDeleted++
			example("user %s deleted", u.Login)
		case !u.Disabled && a.Disabled:
			l.UsersDisabled++
			example("user %s disabled", u.Login)
		}
	}
	for id, name := range before.Groups {
		if _, ok := s.Groups[id]; !ok {
			l.GroupsLost++
			example("group %s removed", name)
		}
	}
	for m := range before.Members {
		if !s.Members[m] {
			l.MembershipsLost++
			example("%s no longer in group %s", m.UserDN, before.Groups[m.Group])
		}
	}
	for id, c := range before.Cursors {
		if s.Cursors[id] != c {
			l.CursorChanged = true
			example("cursor of source %d was %q, is %q", id, c, s.Cursors[id])
		}
	}
	for id, c := range s.Cursors {
		if _, ok := before.Cursors[id]; !ok {
			l.CursorChanged = true
			example("cursor of source %d appeared: %q", id, c)
		}
	}
	return l
}

// orphans are the rows whose parent is gone: the foreign keys forbid
// them, so any is a store that lost its integrity.
var orphans = []struct{ what, q string }{
	{"memberships of a group that is gone", "SELECT count(*) FROM group_members m LEFT JOIN groups g ON g.id = m.group_id WHERE g.id IS NULL"},
	{"groups of a source that is gone", "SELECT count(*) FROM groups g LEFT JOIN sources s ON s.id = g.source_id WHERE s.id IS NULL"},
	{"users of a source that is gone", "SELECT count(*) FROM users u LEFT JOIN sources s ON s.id = u.source_id WHERE u.source_id IS NOT NULL AND s.id IS NULL"},
	{"cards of a user who is gone", "SELECT count(*) FROM cards c LEFT JOIN users u ON u.id = c.user_id WHERE u.id IS NULL"},
	{"former logins of a user who is gone", "SELECT count(*) FROM user_aliases a LEFT JOIN users u ON u.id = a.user_id WHERE u.id IS NULL"},
	{"runs of a source that is gone", "SELECT count(*) FROM runs r LEFT JOIN sources s ON s.id = r.source_id WHERE s.id IS NULL"},
	{"bad-entry records of a run that is gone", "SELECT count(*) FROM run_entry_errors e LEFT JOIN runs r ON r.id = e.run_id WHERE r.id IS NULL"},
	{"held-user records of a run that is gone", "SELECT count(*) FROM run_held_users h LEFT JOIN runs r ON r.id = h.run_id WHERE r.id IS NULL"},
	{"cursors of a source that is gone", "SELECT count(*) FROM sync_cursors c LEFT JOIN sources s ON s.id = c.source_id WHERE s.id IS NULL"},
	{"leases of a source that is gone", "SELECT count(*) FROM sync_leases l LEFT JOIN sources s ON s.id = l.source_id WHERE s.id IS NULL"},
	{"users that share a source and an anchor", "SELECT count(*) FROM (SELECT 1 AS one FROM users WHERE source_id IS NOT NULL GROUP BY source_id, anchor HAVING count(*) > 1) d"},
	{"cards held twice", "SELECT count(*) FROM (SELECT 1 AS one FROM cards GROUP BY number HAVING count(*) > 1) d"},
	{"finished runs without an end", "SELECT count(*) FROM runs WHERE status <> 'running' AND finished_at IS NULL"},
}

// Integrity runs the store's checks and returns the problems found, none
// for a sound store. SQLite: PRAGMA integrity_check and
// foreign_key_check; PostgreSQL: no index left invalid, and, when idle,
// every foreign key a first sync defers in place. Both: no orphan
// rows, no duplicate that a unique constraint forbids, and, when idle
// (no sync runs now), no run left running.
func Integrity(ctx context.Context, db *DB, idle bool) ([]string, error) {
	var problems []string
	if db.Postgres {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)`).Scan(&n); err != nil {
			return nil, fmt.Errorf("storecheck: %w", err)
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d invalid indexes", n))
		}
		// A first sync drops these keys and adds them again when it ends;
		// a store left without them checks no card against its user.
		for _, d := range postgres.Dialect.Deferrable {
			if !d.Key || !idle {
				continue // an index away is slow (what a unique one forbids is counted below); a sync running may have its keys away
			}
			var there bool
			if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = $1
				AND conrelid IN ('users'::regclass, 'cards'::regclass) AND convalidated)`, d.Name).Scan(&there); err != nil {
				return nil, fmt.Errorf("storecheck: %w", err)
			}
			if !there {
				problems = append(problems, "the foreign key "+d.Name+" is away with no sync running")
			}
		}
	} else {
		err := each(ctx, db, "PRAGMA integrity_check", func(r *sql.Rows) error {
			var s string
			err := r.Scan(&s)
			if s != "ok" {
				problems = append(problems, "integrity_check: "+s)
			}
			return err
		})
		if err == nil {
			err = each(ctx, db, "PRAGMA foreign_key_check", func(r *sql.Rows) error {
				var table, parent string
				var rowid sql.NullInt64
				var fk int
				err := r.Scan(&table, &rowid, &parent, &fk)
				problems = append(problems, fmt.Sprintf("foreign_key_check: row %d of %s refers to a missing %s", rowid.Int64, table, parent))
				return err
			})
		}
		if err != nil {
			return nil, fmt.Errorf("storecheck: %w", err)
		}
	}
	checks := orphans
	if idle {
		checks = append(checks[:len(checks):len(checks)], struct{ what, q string }{"runs still running", "SELECT count(*) FROM runs WHERE status = 'running'"})
	}
	for _, c := range checks {
		var n int
		if err := db.QueryRowContext(ctx, c.q).Scan(&n); err != nil {
			return nil, fmt.Errorf("storecheck: counting %s: %w", c.what, err)
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	return problems, nil
}
