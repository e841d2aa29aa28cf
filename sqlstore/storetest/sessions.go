package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// DeleteSession (sign-out) ends the session named, and with it every
// session past its expiry; ending one that does not exist is no error.
func testDeleteSession(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, _ := open(t, o)
	now := t0
	db.Now = func() time.Time { return now }
	admin, err := db.CreateAdmin(ctx, "admin", "hash")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id      string
		expires time.Duration
	}{{"s1", time.Hour}, {"s2", time.Hour}, {"old", 10 * time.Minute}} {
		if err := db.CreateSession(ctx, s.id, admin.ID, "csrf-"+s.id, t0.Add(s.expires)); err != nil {
			t.Fatal(err)
		}
	}
	now = t0.Add(30 * time.Minute) // old has expired; s1 and s2 live
	if err := db.DeleteSession(ctx, "s1"); err != nil {
		t.Fatalf("DeleteSession(s1) = %v", err)
	}
	_, _, err = db.Session(ctx, "s1")
	wantCode(t, err, roster.ENOTFOUND)
	if a, csrf, err := db.Session(ctx, "s2"); err != nil || a.ID != admin.ID || csrf != "csrf-s2" {
		t.Fatalf("Session(s2) after s1 ended = %+v %q %v; want it live", a, csrf, err)
	}
	if n := count(t, r, `SELECT count(*) FROM sessions`); n != 1 {
		t.Errorf("%d sessions are stored, want 1: s2 only, the expired one gone with s1", n)
	}
	if err := db.DeleteSession(ctx, "no-such-session"); err != nil {
		t.Errorf("DeleteSession of an unknown session = %v, want nil", err)
	}
	if err := db.DeleteSession(ctx, "s1"); err != nil {
		t.Errorf("DeleteSession of an ended session = %v, want nil", err)
	}
}
