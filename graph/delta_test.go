package graph_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
)

type round struct {
	users   []string // IDs
	removed []graph.Removal
	pages   int
}

func deltaRound(t *testing.T, c *graph.Client, link string) (round, string, error) {
	t.Helper()
	var r round
	next, err := c.UsersDelta(context.Background(), link, []string{"userPrincipalName", "accountEnabled"}, func(p graph.DeltaPage) error {
		r.pages++
		for _, u := range p.Users {
			r.users = append(r.users, u.ID())
		}
		r.removed = append(r.removed, p.Removed...)
		return nil
	})
	sort.Strings(r.users)
	return r, next, err
}

// A first round gives every user and a delta link; the next round from
// it gives only what changed, with removals and their kind; a round
// with no change gives nothing and a new link.
func TestUsersDeltaRounds(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All")
	s.SetUsers(people(450))
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, link, err := deltaRound(t, c, "")
	if err != nil || len(first.users) != 450 || first.pages != 3 || len(first.removed) != 0 || link == "" {
		t.Fatalf("first round: %d users in %d pages, %d removed, link %q, %v", len(first.users), first.pages, len(first.removed), link, err)
	}
	u := people(450)[7]
	u["displayName"] = "Renamed"
	s.UpsertUser(u)
	s.UpsertUser(map[string]any{"id": "new-user", "userPrincipalName": "new@corp.test", "accountEnabled": true})
	s.DeleteUser(people(450)[8]["id"].(string), false)
	s.DeleteUser(people(450)[9]["id"].(string), true)

	second, link2, err := deltaRound(t, c, link)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{people(450)[7]["id"].(string), "new-user"}
	sort.Strings(want)
	if !slices.Equal(second.users, want) {
		t.Errorf("second round users %v; want %v", second.users, want)
	}
	wantRemoved := []graph.Removal{{ID: people(450)[8]["id"].(string)}, {ID: people(450)[9]["id"].(string), Permanent: true}}
	if !slices.Equal(second.removed, wantRemoved) {
		t.Errorf("second round removed %v; want %v", second.removed, wantRemoved)
	}
	third, link3, err := deltaRound(t, c, link2)
	if err != nil || len(third.users)+len(third.removed) != 0 || link3 == "" {
		t.Errorf("a round without changes: %+v, link %q, %v", third, link3, err)
	}
}

// A delta link the service no longer takes, expired or reset, is
// ErrResync, so that the caller reads everything; it is not a short
// round.
func TestExpiredDeltaLinkAsksForAResync(t *testing.T) {
	for _, gone := range []bool{false, true} {
		s, cfg, _ := lab(t, "User.Read.All")
		s.SetUsers(people(10))
		c, _ := graph.New(cfg)
		_, link, err := deltaRound(t, c, "")
		if err != nil {
			t.Fatal(err)
		}
		s.ExpireDeltaTokens(gone)
		r, next, err := deltaRound(t, c, link)
		if !errors.Is(err, graph.ErrResync) || next != "" || len(r.users)+len(r.removed) != 0 || roster.ErrorCode(err) != roster.EUNAVAILABLE {
			t.Errorf("gone=%v: %+v, %q, %v; want ErrResync and nothing handed over", gone, r, next, err)
		}
		if all, _, err := deltaRound(t, c, ""); err != nil || len(all.users) != 10 {
			t.Errorf("gone=%v: the new first round: %d users, %v", gone, len(all.users), err)
		}
	}
}

// A delta page that keeps failing fails the round: no delta link comes
// back, so nothing can be stored as read.
func TestDeltaRoundCutFailsWhole(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All")
	s.SetUsers(people(450))
	cfg.Tries = 2
	c, _ := graph.New(cfg)
	pages := 0
	link, err := c.UsersDelta(context.Background(), "", nil, func(graph.DeltaPage) error {
		if pages++; pages == 2 {
			s.Fail(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
		}
		return nil
	})
	if err == nil || link != "" || pages != 2 {
		t.Fatalf("a round cut at page 3: link %q after %d pages, %v", link, pages, err)
	}
}
