package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func testAuth(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, _ := open(t, o)
	now := t0
	db.Now = func() time.Time { return now }

	if n, err := db.AdminCount(ctx); err != nil || n != 0 {
		t.Fatalf("AdminCount of a new store = %d, %v", n, err)
	}
	admin, err := db.CreateAdmin(ctx, "admin", "hash-1")
	if err != nil || admin.ID == 0 || !admin.CreatedAt.Equal(t0) {
		t.Fatalf("CreateAdmin = %+v, %v", admin, err)
	}
	_, err = db.CreateAdmin(ctx, "admin", "hash-2")
	wantCode(t, err, roster.ECONFLICT)
	if got, hash, err := db.AdminByName(ctx, "admin"); err != nil || got.ID != admin.ID || hash != "hash-1" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("AdminByName = %+v %q %v", got, hash, err)
	}
	_, _, err = db.AdminByName(ctx, "Admin") // names match exactly
	wantCode(t, err, roster.ENOTFOUND)

	// Sessions end at their expiry, and a password change ends all but
	// the one that made it.
	for _, s := range []string{"s1", "s2"} {
		if err := db.CreateSession(ctx, s, admin.ID, "csrf-"+s, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if a, csrf, err := db.Session(ctx, "s1"); err != nil || a.Name != "admin" || csrf != "csrf-s1" {
		t.Fatalf("Session = %+v %q %v", a, csrf, err)
	}
	if err := db.SetAdminPassword(ctx, admin.ID, "hash-3", "s1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.Session(ctx, "s2")
	wantCode(t, err, roster.ENOTFOUND)
	if _, hash, _ := db.AdminByName(ctx, "admin"); hash != "hash-3" {
		t.Errorf("the password hash is %q after the change", hash)
	}
	now = t0.Add(time.Hour)
	_, _, err = db.Session(ctx, "s1")
	wantCode(t, err, roster.ENOTFOUND)

	// Tokens: found by their secret's hash until revoked; use is noted.
	tok, err := db.CreateToken(ctx, "terminal", "secret-hash", roster.Scope("read"))
	if err != nil || tok.ID == 0 {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	now = t0.Add(2 * time.Hour)
	if got, err := db.TokenBySecretHash(ctx, "secret-hash"); err != nil || got.ID != tok.ID || got.Scope != "read" {
		t.Fatalf("TokenBySecretHash = %+v, %v", got, err)
	}
	// The use is noted in the background: the request does not wait.
	// It waits on the note, bounded generously: a busy machine under
	// -race may take seconds, and a lost note never comes.
	for deadline := time.Now().Add(30 * time.Second); ; {
		list, err := db.Tokens(ctx)
		if err == nil && len(list) == 1 && list[0].LastUsedAt.Equal(now) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Tokens = %+v, %v; want the use noted within 30 s", list, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := db.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.TokenBySecretHash(ctx, "secret-hash")
	wantCode(t, err, roster.ENOTFOUND)
	wantCode(t, db.RevokeToken(ctx, tok.ID), roster.ENOTFOUND)
	if list, _ := db.Tokens(ctx); len(list) != 1 || !list[0].RevokedAt.Equal(now) {
		t.Fatalf("a revoked token is listed as %+v", list)
	}
}
