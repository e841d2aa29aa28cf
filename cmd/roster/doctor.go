package main

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/doctor"
)

func runDoctor(ctx context.Context, a *app, args []string) error {
	var sf sourceFlags
	fs := newFlagSet(a, "doctor", "[source flags, as roster sync takes them] | -source NAME [-data DIR] [-json]")
	sf.register(fs)
	only := fs.String("source", "", "diagnose the source of this name set up in the console (roster serve)")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var src *roster.Source
	var err error
	if *only != "" {
		place, err := store.place(a, "")
		if err != nil {
			return err
		}
		db, err := place.OpenToRead(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		if src, err = storedSource(ctx, a, db, place.Dir, *only); err != nil {
			return err
		}
	} else if src, err = sf.source(a); err != nil {
		return err
	}
	if src.Name == "" {
		src.Name = src.Domain
		if src.Type == roster.EntraID {
			src.Name = "tenant " + src.Graph.TenantID
		}
	}
	r := doctor.Doctor{Now: a.now, Log: a.log}.Diagnose(ctx, src)
	if *asJSON {
		if err := printJSON(a, r); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "%s (%s)\n", r.Source, src.Type.Label())
		for _, s := range r.Steps {
			fmt.Fprintf(a.stdout, "  %-4s  %-11s %s\n", s.Status, s.Name, s.Detail)
			if s.Fix != "" {
				fmt.Fprintf(a.stdout, "  %-4s  %-11s fix: %s\n", "", "", s.Fix)
			}
		}
		if r.OK {
			fmt.Fprintln(a.stdout, "every step passed")
		}
	}
	if !r.OK {
		return errRulesFailed // the report says what failed
	}
	return nil
}
