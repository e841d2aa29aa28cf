package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlite"
)

// roster lockouts lists what is locked and clears it: the way back in
// for an admin whose name a guesser keeps locked.
func TestLockoutsListAndClear(t *testing.T) {
	data := t.TempDir()
	if code, out, _ := runCLI(t, nil, "lockouts", "-data", data); code != exitOK || !strings.Contains(out, "nothing is locked") {
		t.Fatalf("lockouts of an empty store = %d %s", code, out)
	}
	db, err := sqlite.Open(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := roster.LockoutPolicy{Failures: 2, Window: time.Hour, Lock: time.Hour, MaxLock: time.Hour, Forget: time.Hour}
	key := roster.AdminLockoutKey("admin")
	for i := 0; i < 2; i++ {
		if _, err := db.FailLockout(context.Background(), key, "admin", p, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	code, out, errOut := runCLI(t, nil, "lockouts", "-data", data)
	if code != exitOK || !strings.Contains(out, "admin:admin") || !strings.Contains(out, "locked 1h0m0s more") && !strings.Contains(out, "locked 59m") {
		t.Fatalf("lockouts = %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, nil, "lockouts", "clear", "-data", data, key); code != exitOK || !strings.Contains(out, "cleared admin:admin") {
		t.Fatalf("lockouts clear = %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "lockouts", "clear", "-data", data, key); code == exitOK || !strings.Contains(errOut, "nothing is counted") {
		t.Fatalf("clearing it again = %d %s; want an error", code, errOut)
	}
	if code, _, _ := runCLI(t, nil, "lockouts", "clear", "-data", data); code != exitUsage {
		t.Fatalf("clear without a key = %d, want a usage error", code)
	}
}
