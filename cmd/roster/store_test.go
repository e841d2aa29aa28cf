package main

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster/sqlstore"
)

// quietApp is an app whose output and log go to logs, with an empty
// environment.
func quietApp(logs *lockedBuffer) *app {
	return &app{stdout: logs, stderr: logs, getenv: func(string) string { return "" }, log: newLogger(logs, "info"), now: time.Now}
}

// sealedStore opens the user base of the data folder data as a command
// does, with the folder's secret key to seal and open bind passwords,
// and closes it when the test ends.
func sealedStore(t *testing.T, a *app, data string) *sqlstore.DB {
	t.Helper()
	db, err := openStore(context.Background(), a, "", data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if db.Sealer, err = secretSealer(a, data); err != nil {
		t.Fatal(err)
	}
	return db
}
