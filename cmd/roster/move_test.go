package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore/storetest"
)

// roster source move rebinds an Entra DS source's users to their Entra
// ID objects: by msDS-aadObjectId, else by UPN confirmed by mail; the
// plan comes first and changes nothing; after -apply, a sync from Entra
// ID keeps every matched user's cards and print code, and creates no
// duplicate of them.
func TestSourceMoveToEntraID(t *testing.T) {
	ctx := context.Background()
	s, flags, _ := entraLab(t, 0)
	graphID := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	var people []map[string]any
	for i := range 50 {
		people = append(people, map[string]any{"id": graphID(i), "userPrincipalName": fmt.Sprintf("pupil%d@school.test", i),
			"mail": fmt.Sprintf("pupil%d@school.test", i), "displayName": fmt.Sprintf("Pupil %d", i), "accountEnabled": true})
	}
	s.SetUsers(people)

	data := t.TempDir()
	var logs lockedBuffer
	a := quietApp(&logs)
	db := sealedStore(t, a, data)
	corp, err := db.SourceID(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	var users []*roster.User
	for i := range 50 {
		u := storetest.NewUser(fmt.Sprintf("pupil%d", i))
		u.Anchor, u.Email = fmt.Sprintf("guid-of-the-managed-domain-%d", i), fmt.Sprintf("pupil%d@school.test", i)
		u.Extra = map[string][]string{"userPrincipalName": {fmt.Sprintf("pupil%d@school.test", i)}}
		switch {
		case i < 45:
			u.Extra[roster.AttrAADObjectID] = []string{graphID(i)}
		case i < 48: // none recorded: the UPN, confirmed by mail
		case i == 48:
			u.Email = "someone.else@school.test" // the UPN alone, unconfirmed
		default:
			u.Extra = nil // nothing to match by
		}
		if i == 0 {
			u.PrintCodeHash = "keyed-hash-of-pupil0s-code"
		}
		users = append(users, u)
	}
	stored := storetest.Create(t, db, corp, users...)
	// A badge an admin added by hand, as the console does.
	if err := db.AddCard(ctx, stored[0].ID, roster.Card{Number: "04A1B2C3", Kind: roster.CardPrimary, Origin: roster.CardManual}); err != nil {
		t.Fatal(err)
	}

	move := append([]string{"source", "move", "corp", "-to-type", "entra-id", "-data", data, "-json"}, flags[2:]...)
	code, out, errOut := runCLI(t, nil, move...)
	var plan struct {
		Matched   []roster.MoveMatch
		Unmatched []roster.MoveMiss
		Ambiguous []roster.MoveMiss
		Rebound   int
	}
	if code != exitOK || json.Unmarshal([]byte(out), &plan) != nil || len(plan.Matched) != 48 || len(plan.Unmatched) != 2 || plan.Rebound != 0 {
		t.Fatalf("the plan = %d: %d matched, %d unmatched\n%s%s", code, len(plan.Matched), len(plan.Unmatched), out, errOut)
	}
	if u := storetest.Stored(t, db, corp, "guid-of-the-managed-domain-3"); u == nil {
		t.Fatal("the plan changed the user base")
	}

	code, out, errOut = runCLI(t, nil, append(move, "-apply")...)
	if code != exitOK || json.Unmarshal([]byte(out), &plan) != nil || plan.Rebound != 48 {
		t.Fatalf("the move = %d, rebound %d\n%s%s", code, plan.Rebound, out, errOut)
	}
	r := syncJSON(t, exitOK, append([]string{"sync", "-name", "corp", "-data", data}, flags...)...)
	if r.Run.Created != 2 || r.Run.Disabled != 2 || r.Run.Failed != 0 {
		t.Fatalf("the first sync from Entra ID: %s", counts(r.Run))
	}
	u := storetest.Stored(t, db, corp, graphID(0))
	if u == nil || len(u.Cards) != 1 || u.Cards[0].Number != "04A1B2C3" || u.PrintCodeHash != "keyed-hash-of-pupil0s-code" {
		t.Fatalf("pupil0 after the move and a sync: %+v", u)
	}
	if found, err := db.UserByLogin(ctx, "pupil0"); err != nil || found.ID != u.ID {
		t.Fatalf("pupil0's former login does not find them: %+v %v", found, err)
	}
	if strings.Contains(logs.String(), "Secret") {
		t.Fatal("a secret reached the log")
	}
}
