package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/runner"
)

func runSource(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "move" {
		return usageErrorf("roster source move NAME -to-type entra-id ...: move an Entra DS source's users onto Entra ID")
	}
	return runMove(ctx, a, args[1:])
}

// runMove moves the users of an Entra DS source onto Entra ID: each is
// rebound, once, to its Entra ID object (roster.PlanMove), keeping its
// login, former logins, cards, print code and history. Without -apply it
// shows the plan and changes nothing; it never removes anyone.
func runMove(ctx context.Context, a *app, args []string) error {
	var sf sourceFlags
	fs := newFlagSet(a, "source move", "NAME -to-type entra-id -tenant ID -client-id ID -cert FILE -key FILE [-apply] [-json]")
	sf.register(fs)
	toType := fs.String("to-type", "", "the type to move to: entra-id")
	apply := fs.Bool("apply", false, "carry the plan out (without it, only show it)")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	name, err := parseOneArg(fs, args, "the source's name")
	if err != nil {
		return err
	}
	if *toType != string(roster.EntraID) {
		return usageErrorf("-to-type entra-id is the one move roster makes: from Entra Domain Services to Entra ID")
	}
	sf.typ = string(roster.EntraID)
	set := sf.settings()
	set.Name = name
	to, err := sf.sourceWith(a, set)
	if err != nil {
		return err
	}
	db, place, err := store.openPlace(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Sealer, err = secretSealer(a, place.Dir); err != nil {
		return err
	}
	id, err := db.LookupSourceID(ctx, name)
	if err != nil {
		return err
	}
	r := &runner.Runner{Store: db, Now: a.now, Log: a.log}
	res, err := r.Move(ctx, id, to, *apply)
	if err != nil {
		return usage(err)
	}
	plan, rebound, stored := res.MovePlan, res.Rebound, res.Stored
	if *asJSON {
		return printJSON(a, res)
	}
	w := a.stdout
	fmt.Fprintf(w, "move of %s (%d users) to Entra ID tenant %s (%d users)\n", name, res.Users, to.Graph.TenantID, res.Objects)
	by := map[string]int{}
	for _, m := range plan.Matched {
		by[m.By]++
	}
	fmt.Fprintf(w, "  matched     %d", len(plan.Matched))
	for k, n := range by {
		fmt.Fprintf(w, "; %d by %s", n, k)
	}
	fmt.Fprintln(w)
	for _, l := range []struct {
		title string
		list  []roster.MoveMiss
	}{{"unmatched", plan.Unmatched}, {"ambiguous", plan.Ambiguous}} {
		fmt.Fprintf(w, "  %-11s %d\n", l.title, len(l.list))
		for i, m := range l.list {
			if i == 20 {
				fmt.Fprintf(w, "              ... and %d more (-json lists them all)\n", len(l.list)-20)
				break
			}
			fmt.Fprintf(w, "              %s: %s\n", m.Login, m.Why)
		}
	}
	if !*apply {
		fmt.Fprintln(w, "nothing changed; run again with -apply to rebind the matched users. Nobody is removed by a move;")
		fmt.Fprintln(w, "the users left unmatched are treated by the next full sync as users the directory no longer returns, under the removal threshold.")
		return nil
	}
	note := "sync it with -type entra-id and the same flags"
	if stored {
		note = "its settings now read Entra ID"
	}
	fmt.Fprintf(w, "rebound %d users; %s; the next sync reads every user, and the groups afresh.\n", rebound, strings.TrimSpace(note))
	return nil
}
