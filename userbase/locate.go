package userbase

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/postgres"
)

// DataDir picks roster's data folder: the flag, then $ROSTER_DATA, then
// the configuration's data_dir, then /var/lib/roster for root or
// ~/.local/share/roster for anyone else.
func DataDir(flagValue, configValue string, getenv func(string) string) string {
	switch {
	case flagValue != "":
		return flagValue
	case getenv("ROSTER_DATA") != "":
		return getenv("ROSTER_DATA")
	case configValue != "":
		return configValue
	case os.Geteuid() == 0:
		return "/var/lib/roster"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "roster")
	}
	return "roster-data"
}

// Place is a located user base: the data folder that holds its keys, and
// the user base itself, a PostgreSQL URL or an SQLite file.
type Place struct {
	Dir      string // the data folder
	DB       string // a postgres:// URL or an SQLite file; may hold a password, so never print it
	Postgres bool   // DB is a PostgreSQL URL
	// CacheKiB is the page cache of each SQLite connection, 0 for
	// SQLite's default (about 2 MiB); SyncCacheKiB for a process that
	// syncs.
	CacheKiB int
}

// PageCacheBytes returns what the page caches of the user base's
// connections take of the process: CacheKiB for SQLite, nothing for
// PostgreSQL, whose cache is the server's.
func (p Place) PageCacheBytes() int64 {
	if p.Postgres {
		return 0
	}
	return int64(p.CacheKiB) << 10
}

// SyncCacheKiB is the SQLite page cache of a process that only syncs
// (roster sync, the workers of roster serve). A first sync of 100,000
// OpenLDAP users (bench/sync, side by side) took 6.1-6.7 s with 6 MiB
// and a Go heap limit of 31 MiB, against 7.0-7.7 s with the default
// 2 MiB and 42 MiB, and peaked at 61 MB of RSS instead of 64: the
// indexes' pages it writes at random stay in the cache instead of being
// read and spilled again. runner.DefaultMemoryBudget leaves it the room.
const SyncCacheKiB = 6 << 10

// Locate picks the user base: the flag, then $ROSTER_DB, then roster.db in
// the data folder dir. It refuses a location that is neither a PostgreSQL
// URL nor a file, without echoing it (it may hold a password).
//
// Errors: EINVALID, with what to give instead.
func Locate(dir, dbFlag string, getenv func(string) string) (Place, error) {
	p := Place{Dir: dir, DB: dbFlag}
	if p.DB == "" {
		p.DB = getenv("ROSTER_DB")
	}
	if p.DB == "" {
		p.DB = filepath.Join(dir, "roster.db")
	}
	switch scheme, _, isURL := strings.Cut(p.DB, "://"); {
	case postgres.LooksLikeKeywords(p.DB):
		return p, roster.Errorf(roster.EINVALID, "give PostgreSQL as a URL, postgres://user@host:5432/database?sslmode=verify-full (the password in PGPASSWORD or ~/.pgpass), not as keyword=value pairs")
	case postgres.IsDSN(p.DB):
		p.Postgres = true
	case isURL && !strings.ContainsAny(scheme, "/\\"):
		return p, roster.Errorf(roster.EINVALID, "the user base is a postgres:// URL (in lower case) or an SQLite file, not a %s:// URL", scheme)
	}
	return p, nil
}
