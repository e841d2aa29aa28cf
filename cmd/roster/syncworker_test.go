package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/runner"
)

// A sync whose worker fails before it can record a run (here: the user
// base it is given cannot be opened) says why to whoever started it,
// instead of "could not start".
func TestAWorkerThatCannotStartSaysWhy(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	var logs lockedBuffer
	a := quietApp(&logs)
	db := sealedStore(t, a, data)
	src := &roster.Source{Name: "corp", Type: roster.EntraDS, Address: "127.0.0.1", TLSMode: roster.LDAPS, Domain: "corp.test", Login: "svc", Password: "x"}
	if err := db.SaveSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	hash, err := datadir.PrintCodeHasher(data, true)
	if err != nil {
		t.Fatal(err)
	}
	s := runner.NewService(ctx, &runner.Runner{Store: db, Hash: hash, Now: a.now, Log: a.log}, data)
	s.Stderr, s.Getenv = a.stderr, a.getenv
	s.DBLocation = filepath.Join(data, "secret.key", "roster.db") // under a file
	id, err := s.Start(src.ID, roster.SyncRequest{})
	s.Wait()
	if id != 0 || err == nil || !strings.Contains(roster.ErrorMessage(err), "cannot open the user base") {
		t.Fatalf("Start = %d, %v (%s); want the worker's reason\n%s", id, err, roster.ErrorMessage(err), logs.String())
	}
}
