package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// records is a directory that returns its records in one page.
type records []roster.Record

func (d records) Users(_ context.Context, page func([]roster.Record) error, _ func(roster.EntryError) error) error {
	return page(append([]roster.Record(nil), d...))
}

func (records) Groups(context.Context) ([]roster.GroupRecord, error) { return nil, nil }

// The engine says which users' cards changed, and the store writes only
// those: a user whose other fields change keeps its card rows as they
// were (not deleted and written again), a user whose cards change gets
// the new ones, and a card added by hand stays in both cases.
func TestTheEngineAndTheStoreAgreeOnWhichCardsChanged(t *testing.T) {
	ctx := context.Background()
	db, path, source := open(t)
	r := raw(t, path)
	dir := records{
		{Anchor: "a-ann", DN: "CN=Ann,DC=corp,DC=test", Login: "ann", Name: "Ann", Cards: []string{"1001", "1002"}},
		{Anchor: "a-ben", DN: "CN=Ben,DC=corp,DC=test", Login: "ben", Name: "Ben", Cards: []string{"2001"}},
	}
	e := &reconcile.Engine{Store: db, Now: db.Now, HashCode: func(c string) string { return "h:" + c }}
	src := &roster.Source{Name: "corp"}
	sync := func() *roster.Run {
		t.Helper()
		res, err := e.Run(ctx, src, source, dir, reconcile.Options{})
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		return res.Run
	}
	sync()
	ann := storetest.Stored(t, db, source, "a-ann")
	if err := db.AddCard(ctx, ann.ID, roster.Card{Number: "9001", Kind: roster.CardSecondary}); err != nil {
		t.Fatal(err)
	}
	rows := func(login string) string {
		t.Helper()
		q, err := r.Query(`SELECT c.id, c.number, c.kind, c.origin FROM cards c JOIN users u ON u.id = c.user_id WHERE u.login = ? ORDER BY c.id`, login)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		var out []string
		for q.Next() {
			var id int64
			var number, kind, origin string
			if err := q.Scan(&id, &number, &kind, &origin); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d:%s/%s/%s", id, number, kind, origin))
		}
		return strings.Join(out, " ")
	}
	annBefore, benBefore := rows("ann"), rows("ben")

	dir[0].Name = "Ann Lee"                 // ann: another name, the same cards
	dir[1].Cards = []string{"2002", "2001"} // ben: a new primary card
	if run := sync(); run.Updated != 2 {
		t.Fatalf("second sync updated %d users, want 2", run.Updated)
	}
	if got := rows("ann"); got != annBefore {
		t.Errorf("ann's cards were rewritten though they did not change:\n before %s\n after  %s", annBefore, got)
	}
	if u := storetest.Stored(t, db, source, "a-ann"); u.Name != "Ann Lee" {
		t.Errorf("ann's name = %q, want the update written", u.Name)
	}
	got := storetest.Stored(t, db, source, "a-ben")
	var cards []string
	for _, c := range got.Cards {
		cards = append(cards, c.Number+"/"+string(c.Kind))
	}
	if strings.Join(cards, " ") != "2002/primary 2001/secondary" {
		t.Errorf("ben's cards = %v (rows before: %s), want the directory's, in its order", cards, benBefore)
	}
	if !strings.Contains(rows("ann"), "9001/secondary/manual") {
		t.Errorf("ann's manual card is gone: %s", rows("ann"))
	}
}
