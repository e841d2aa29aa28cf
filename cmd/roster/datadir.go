package main

import (
	"context"
	"crypto/cipher"
	"flag"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/userbase"
)

// The -data and -db flags' help, the same on every command.
const (
	dbHelp             = "the user base: a postgres:// URL, shared by several roster nodes (keep its password in PGPASSWORD or ~/.pgpass), or an SQLite file (default: $ROSTER_DB, else roster.db in the data folder)"
	dataHelp           = "data folder (default: $ROSTER_DATA, else /var/lib/roster for root, else ~/.local/share/roster)"
	dataHelpWithConfig = "data folder holding the user base (default: $ROSTER_DATA, else the configuration's data_dir, else /var/lib/roster for root, else ~/.local/share/roster)"
)

// storeFlags are the -data and -db flags of a command on the user base.
type storeFlags struct{ data, db *string }

// addStoreFlags defines -data and -db on fs; more is added to the flags'
// help (what the command asks of the folder or database), if given.
func addStoreFlags(fs *flag.FlagSet, data, db string) storeFlags {
	return storeFlags{fs.String("data", "", dataHelp+data), fs.String("db", "", dbHelp+db)}
}

// place locates the user base the flags name (userbase.Locate);
// configDir is the configuration file's data_dir, if any.
func (s storeFlags) place(a *app, configDir string) (userbase.Place, error) {
	p, err := userbase.Locate(userbase.DataDir(*s.data, configDir, a.getenv), *s.db, a.getenv)
	return p, usage(err)
}

// open opens the user base the flags name, bringing its schema up to date.
func (s storeFlags) open(ctx context.Context, a *app) (*sqlstore.DB, error) {
	db, _, err := s.openPlace(ctx, a)
	return db, err
}

// openPlace is open, returning where the user base and its data folder
// are too.
func (s storeFlags) openPlace(ctx context.Context, a *app) (*sqlstore.DB, userbase.Place, error) {
	p, err := s.place(a, "")
	if err != nil {
		return nil, p, err
	}
	db, err := p.Open(ctx)
	return db, p, err
}

// openStore opens the user base that dbFlag or $ROSTER_DB names, else the
// SQLite file in the data folder dir.
func openStore(ctx context.Context, a *app, dbFlag, dir string) (*sqlstore.DB, error) {
	return storeFlags{&dir, &dbFlag}.open(ctx, a)
}

// secretSealer returns the cipher that seals source passwords at rest
// (datadir.SecretSealer), an invalid setting being a usage error.
func secretSealer(a *app, dir string) (cipher.AEAD, error) {
	s, err := datadir.SecretSealer(dir, a.getenv)
	return s, usage(err)
}

// usage makes an EINVALID error, a setting or flag that cannot work, a
// usage error (exit status 2); it returns other errors as they are.
func usage(err error) error {
	if roster.ErrorCode(err) == roster.EINVALID {
		return usageErrorf("%s", roster.ErrorMessage(err))
	}
	return err
}
