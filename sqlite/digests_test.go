package sqlite_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// An anchor that is not valid UTF-8 (a binary anchor attribute read as
// text) cannot travel in a JSON list: UserDigests then lists the anchors
// as VALUES, and finds every user all the same, each under its own
// anchor. PostgreSQL does not store such text, so the case is SQLite's.
func TestUserDigestsOfAnAnchorThatIsNotUTF8(t *testing.T) {
	ctx := context.Background()
	db, _, source := open(t)
	odd, plain := storetest.NewUser("odd"), storetest.NewUser("plain")
	odd.Anchor = "odd\xff\xfe"
	ids, err := db.Apply(ctx, source, []roster.Change{
		{Kind: roster.Create, Login: "odd", User: odd, Fingerprint: 3},
		{Kind: roster.Create, Login: "plain", User: plain, Fingerprint: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.UserDigests(ctx, source, []string{plain.Anchor, "absent", odd.Anchor, plain.Anchor})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("UserDigests found %d users, want 2: %+v", len(got), got)
	}
	for i, u := range []*roster.User{odd, plain} {
		d := got[u.Anchor]
		if d.ID != ids[i] || d.Anchor != u.Anchor || d.Login != u.Login || d.Fingerprint != uint64(3+2*i) {
			t.Errorf("UserDigests[%q] = %+v, want user %d, %s, fingerprint %d", u.Anchor, d, ids[i], u.Login, 3+2*i)
		}
	}
}
