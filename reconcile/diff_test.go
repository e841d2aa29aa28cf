package reconcile

import (
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// The store rewrites an updated user's cards only when the plan says
// they changed (roster.Change.CardsChanged), so diff must say so exactly
// when the store, comparing the stored directory cards with the planned
// ones, would have found them different: number, kind and expiry, in
// order, cards added by hand aside.
func TestDiffSaysWhetherTheCardsChanged(t *testing.T) {
	stored := func(cards ...roster.Card) *roster.User {
		return &roster.User{ID: 1, Anchor: "a1", DN: "CN=Ann,DC=corp,DC=test", Login: "ann", Name: "Ann", Cards: cards}
	}
	dirCard := func(number string, kind roster.CardKind) roster.Card {
		return roster.Card{Number: number, Kind: kind, Origin: roster.CardFromDirectory}
	}
	manual := roster.Card{Number: "M1", Kind: roster.CardSecondary, Origin: roster.CardManual}
	expiring := dirCard("C1", roster.CardPrimary)
	expiring.ExpiresAt = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	record := func(name string, cards ...string) *roster.Record {
		return &roster.Record{Anchor: "a1", DN: "CN=Ann,DC=corp,DC=test", Login: "ann", Name: name, Cards: cards}
	}
	tests := []struct {
		name    string
		rec     *roster.Record
		cur     *roster.User
		kind    roster.Kind
		changed bool
	}{
		{"an update with the same cards leaves them", record("Ann Lee", "C1", "C2"),
			stored(dirCard("C1", roster.CardPrimary), dirCard("C2", roster.CardSecondary)), roster.Update, false},
		{"a card added by hand does not count", record("Ann Lee", "C1"),
			stored(dirCard("C1", roster.CardPrimary), manual), roster.Update, false},
		{"cards added by hand are passed over wherever they stand", record("Ann Lee", "C1", "C2"),
			stored(manual, dirCard("C1", roster.CardPrimary), manual, dirCard("C2", roster.CardSecondary), manual), roster.Update, false},
		{"a stored card without an origin counts as a directory card", record("Ann Lee", "C1"),
			stored(dirCard("C1", roster.CardPrimary), roster.Card{Number: "C2", Kind: roster.CardSecondary}), roster.Update, true},
		{"a new card changes them", record("Ann", "C1", "C2"),
			stored(dirCard("C1", roster.CardPrimary)), roster.Update, true},
		{"a card gone changes them", record("Ann", "C1"),
			stored(dirCard("C1", roster.CardPrimary), dirCard("C2", roster.CardSecondary)), roster.Update, true},
		{"another number changes them", record("Ann", "C9"),
			stored(dirCard("C1", roster.CardPrimary)), roster.Update, true},
		{"another primary changes them", record("Ann", "C2", "C1"),
			stored(dirCard("C1", roster.CardPrimary), dirCard("C2", roster.CardSecondary)), roster.Update, true},
		// The directory gives no expiry: a stored one is dropped, as the
		// store did when it compared the cards itself.
		{"an expiry the directory does not give changes them", record("Ann Lee", "C1"),
			stored(expiring), roster.Update, true},
		{"a rename with the same cards leaves them", &roster.Record{Anchor: "a1", DN: "CN=Ann,DC=corp,DC=test", Login: "ann.lee", Name: "Ann", Cards: []string{"C1"}},
			stored(dirCard("C1", roster.CardPrimary)), roster.Rename, false},
		{"a disable with the same cards leaves them", &roster.Record{Anchor: "a1", DN: "CN=Ann,DC=corp,DC=test", Login: "ann", Name: "Ann", Cards: []string{"C1"}, Disabled: true},
			stored(dirCard("C1", roster.CardPrimary)), roster.Disable, false},
		{"a create with cards has them changed", record("Ann", "C1"), nil, roster.Create, true},
		{"a create without cards has none to write", record("Ann"), nil, roster.Create, false},
	}
	hash := func(c string) string { return "h:" + c }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := diff(tt.rec, tt.cur, hash, roster.KeepDisabled)
			if ch == nil {
				t.Fatal("no change planned")
			}
			if ch.Kind != tt.kind || ch.CardsChanged != tt.changed {
				t.Errorf("%s with CardsChanged %v, want %s with %v (fields %+v)", ch.Kind, ch.CardsChanged, tt.kind, tt.changed, ch.Fields)
			}
		})
	}
}

// A change the engine makes without new cards (a removal, a login given
// up to a new entry) never asks the store to rewrite them.
func TestChangesWithoutNewCardsLeaveThemAlone(t *testing.T) {
	u := &roster.User{ID: 1, Anchor: "a1", Login: "ann", Cards: []roster.Card{{Number: "C1", Kind: roster.CardPrimary, Origin: roster.CardFromDirectory}}}
	if ch := giveUp(u, "CN=Ann2"); ch.CardsChanged {
		t.Error("a login given up rewrites the cards")
	}
	f := newFixture(4)
	f.mustRun(t, Options{})
	f.dir.recs = f.dir.recs[:3]
	res, err := f.run(t, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Changes {
		if ch.Kind == roster.Disable && ch.CardsChanged {
			t.Errorf("the disable of %s rewrites the cards", ch.Login)
		}
	}
}
