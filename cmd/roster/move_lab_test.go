package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/lab/graphlab"
	"github.com/rosterhq/roster/lab/labenv"
)

// The lab's AD users, synced as an Entra DS source, move to the Graph
// double's copy of the same people: most by the msDS-aadObjectId the lab
// AD holds (Samba with the schema extension), the rest (none, or a wrong
// one) by UPN confirmed by mail or employee ID. A sync from Entra ID
// then creates nobody anew, and every user keeps its row, its print code
// and a badge added by hand.
func TestMoveTheLabsADToEntraID(t *testing.T) {
	env := labenv.Require(t)
	ctx := context.Background()
	data := t.TempDir()
	first := syncJSON(t, exitOK, syncArgs(env, labenv.AD, data, "corp", "")...)
	if first.Run.Created == 0 {
		t.Fatalf("the AD sync: %s", counts(first.Run))
	}
	var logs lockedBuffer
	db := sealedStore(t, quietApp(&logs), data)
	corp, _ := db.LookupSourceID(ctx, "corp")
	before := map[int64]*roster.User{}
	db.Users(ctx, corp, func(u *roster.User) error { before[u.ID] = u; return nil })
	tu, err := db.UserByLogin(ctx, "test-user")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddCard(ctx, tu.ID, roster.Card{Number: "HAND-5678", Kind: roster.CardSecondary, Origin: roster.CardManual}); err != nil {
		t.Fatal(err)
	}

	g, dir, certFile, keyFile, ca := labTenant(t, env)
	ad := env.Data(t, labenv.AD)
	graphFlags := []string{"-tenant", entraTenant, "-client-id", entraClient, "-authority-host", g.URL, "-graph-host", g.URL,
		"-ca", ca, "-cert", certFile, "-key", keyFile}

	code, out, errOut := runCLI(t, nil, append([]string{"source", "move", "corp", "-to-type", "entra-id", "-data", data, "-json", "-apply"}, graphFlags...)...)
	var plan struct {
		Matched   []roster.MoveMatch
		Unmatched []roster.MoveMiss
		Ambiguous []roster.MoveMiss
		Rebound   int
	}
	if code != exitOK || json.Unmarshal([]byte(out), &plan) != nil {
		t.Fatalf("move = %d\n%s%s", code, out, errOut)
	}
	by := map[string]int{}
	for _, m := range plan.Matched {
		by[m.By]++
	}
	if plan.Rebound != len(before) || len(plan.Unmatched)+len(plan.Ambiguous) != 0 || by[roster.AttrAADObjectID] == 0 || by[roster.AttrAADObjectID] == len(before) {
		t.Fatalf("the move rebound %d of %d; by %v; unmatched %v; ambiguous %v", plan.Rebound, len(before), by, plan.Unmatched, plan.Ambiguous)
	}

	cfg := map[string]any{"sources": []any{map[string]any{
		"name": "corp", "type": "entra-id", "ca_file": ca,
		"graph":   map[string]any{"tenant_id": entraTenant, "client_id": entraClient, "authority_host": g.URL, "graph_host": g.URL, "cert_file": certFile, "key_file": keyFile},
		"mapping": map[string]any{"login": "onPremisesSamAccountName", "cards": []string{"onPremisesExtensionAttributes/extensionAttribute5"}, "print_code": "onPremisesExtensionAttributes/extensionAttribute6"},
	}}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "roster.json")
	os.WriteFile(cfgFile, b, 0o600)
	r := syncJSON(t, exitOK, "sync", "-config", cfgFile, "-data", data)
	if r.Run.Created != 0 || r.Run.Failed != 0 {
		t.Fatalf("the first sync from Entra ID: %s", counts(r.Run))
	}
	hash, _ := datadir.PrintCodeHasher(data, false)
	byLogin, cardsOf := map[string]string{}, map[string][]string{}
	for _, u := range ad.Users {
		byLogin[u.Login], cardsOf[u.Login] = u.PrintCode, u.Cards
	}
	after := 0
	db.Users(ctx, corp, func(u *roster.User) error {
		after++
		if before[u.ID] == nil {
			t.Errorf("user %s is new after the move", u.Login)
		}
		if code := byLogin[u.Login]; code != "" && u.PrintCodeHash != hash(code) {
			t.Errorf("user %s lost its print code", u.Login)
		}
		var dirCards []string
		for _, c := range u.Cards {
			if c.Origin == roster.CardFromDirectory {
				dirCards = append(dirCards, c.Number)
			}
		}
		slices.Sort(dirCards)
		want := slices.Clone(cardsOf[u.Login])
		slices.Sort(want)
		if !slices.Equal(dirCards, want) {
			t.Errorf("user %s has the cards %q after the move, want %q", u.Login, dirCards, want)
		}
		return nil
	})
	if after != len(before) {
		t.Errorf("%d users after the move, %d before", after, len(before))
	}
	tu, _ = db.UserByLogin(ctx, "test-user")
	hand := false
	for _, c := range tu.Cards {
		hand = hand || c.Number == "HAND-5678"
	}
	if !hand {
		t.Errorf("test-user lost the badge added by hand: %+v", tu.Cards)
	}
}

// labTenant starts the Graph double with the AD lab's people and groups,
// an app with the read permissions and a certificate credential, and
// returns the double, the folder of the credential's files, the files,
// and the double's CA file.
func labTenant(t *testing.T, env *labenv.Env) (g *graphlab.Server, dir, certFile, keyFile, ca string) {
	t.Helper()
	cred, err := graphlab.NewCredential()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if certFile, keyFile, err = cred.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	g = graphlab.New(entraTenant)
	t.Cleanup(g.Close)
	g.Register(graphlab.App{ClientID: entraClient, Certs: []*x509.Certificate{cred.Cert}, Roles: []string{"User.Read.All", "GroupMember.Read.All"}})
	ad := env.Data(t, labenv.AD)
	g.SetUsers(graphlab.PeopleOf(ad, env.Get("LAB_AD_DOMAIN")))
	g.SetGroups(graphlab.GroupsOf(ad))
	ca = filepath.Join(dir, "graph-ca.pem")
	if err := os.WriteFile(ca, g.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return g, dir, certFile, keyFile, ca
}
