package reconcile

import (
	"github.com/rosterhq/roster"
)

// NewMemStore returns a new engine tests' in-memory store, and a way to
// give its users manual cards, for the store conformance suite: that
// suite imports this package, so it runs from package reconcile_test.
func NewMemStore() (Store, func(userID int64, number string) error) {
	s := newStore()
	return s, func(userID int64, number string) error {
		u := s.users[userID]
		if u == nil {
			return roster.Errorf(roster.ENOTFOUND, "no user has the ID %d", userID)
		}
		s.touch(userID, func(u *roster.User) {
			u.Cards = append(u.Cards, roster.Card{Number: number, Kind: roster.CardSecondary, Origin: roster.CardManual})
		})
		return nil
	}
}
