package graph_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
	"github.com/rosterhq/roster/lab/graphlab"
)

// Users become records with the mapping's properties: the login lower
// case, the card from an extension attribute through the card steps,
// accountEnabled false as disabled; a user Graph returns without
// accountEnabled is a bad entry, never an active user.
func TestDirectoryMapsUsers(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All", "GroupMember.Read.All")
	users := people(1200)
	users[3]["userPrincipalName"] = "Mixed.Case@Corp.Test"
	users[4]["onPremisesExtensionAttributes"] = map[string]any{"extensionAttribute5": "001F; 0042"}
	delete(users[5], "accountEnabled")
	s.SetUsers(users)
	c, _ := graph.New(cfg)
	m := roster.DefaultMapping(roster.EntraID)
	m.Cards = []string{"onPremisesExtensionAttributes/extensionAttribute5"}
	step, err := roster.ParseCardStep("strip-zeros")
	if err != nil {
		t.Fatal(err)
	}
	m.CardTransforms = roster.CardPipeline{step}
	d := &graph.Directory{Client: c, Mapping: m}
	var recs []roster.Record
	var bad []roster.EntryError
	err = d.Users(context.Background(), func(p []roster.Record) error { recs = append(recs, p...); return nil },
		func(e roster.EntryError) error { bad = append(bad, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1199 || len(bad) != 1 || !strings.Contains(bad[0].Message, "accountEnabled") {
		t.Fatalf("%d records, bad %v; want 1199 and the user without accountEnabled", len(recs), bad)
	}
	by := map[string]roster.Record{}
	for _, r := range recs {
		by[r.Anchor] = r
	}
	if r := by[users[3]["id"].(string)]; r.Login != "mixed.case@corp.test" || r.DN != r.Anchor {
		t.Errorf("user 3: %+v", r)
	}
	if r := by[users[4]["id"].(string)]; !slices.Equal(r.Cards, []string{"1F", "42"}) {
		t.Errorf("user 4's cards %q; want the value split and its zeros trimmed", r.Cards)
	}
	if r := by[users[10]["id"].(string)]; !r.Disabled || r.Name != "User 10" || r.Department != "Sales" {
		t.Errorf("user 10 (accountEnabled false): %+v", r)
	}
	if r := by[users[11]["id"].(string)]; r.Disabled {
		t.Errorf("user 11 is enabled: %+v", r)
	}
}

// Groups list their users through nesting, a cycle included, and
// without the devices among the members.
func TestDirectoryGroupsThroughNesting(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All", "GroupMember.Read.All")
	users := people(1500)
	s.SetUsers(users)
	id := func(i int) string { return users[i]["id"].(string) }
	big := make([]string, 0, 1200)
	for i := range 1200 {
		big = append(big, id(i))
	}
	s.SetGroups([]graphlab.Group{
		{ID: "g-staff", Name: "Staff", Members: []string{id(1300), "g-teachers", "device-1"}},
		{ID: "g-teachers", Name: "Teachers", Members: []string{id(1301), "g-staff"}}, // a cycle
		{ID: "g-all", Name: "All", Members: big},
	})
	c, _ := graph.New(cfg)
	groups, err := (&graph.Directory{Client: c, Mapping: roster.DefaultMapping(roster.EntraID)}).Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]string{}
	for _, g := range groups {
		sort.Strings(g.MemberDNs)
		members[g.Name] = g.MemberDNs
	}
	want := []string{id(1300), id(1301)}
	sort.Strings(want)
	if !slices.Equal(members["Staff"], want) || !slices.Equal(members["Teachers"], want) || len(members["All"]) != 1200 {
		t.Errorf("Staff %v, Teachers %v, All %d; want both users in Staff and Teachers, 1200 in All", members["Staff"], members["Teachers"], len(members["All"]))
	}
}

// Without GroupMember.Read.All the group read fails and names it.
func TestGroupsNeedTheirPermission(t *testing.T) {
	s, cfg, _ := lab(t, "User.Read.All")
	s.SetGroups([]graphlab.Group{{ID: "g", Name: "G"}})
	c, _ := graph.New(cfg)
	_, err := (&graph.Directory{Client: c}).Groups(context.Background())
	if roster.ErrorCode(err) != roster.EFORBIDDEN || !strings.Contains(roster.ErrorMessage(err), "GroupMember.Read.All") {
		t.Fatalf("got %v", err)
	}
}
