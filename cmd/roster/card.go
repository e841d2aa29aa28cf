package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/rosterhq/roster"
)

// runCard is the card test bench: it runs a card transform on the values
// a reader sends, or a directory holds, and shows each step's output.
func runCard(ctx context.Context, a *app, args []string) error {
	const use = "use: roster card test [-step op[=arg]]... [-source NAME] VALUE..."
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(a.stdout, use)
		printCardOps(a)
		return nil
	}
	if len(args) == 0 || args[0] != "test" {
		return usageErrorf("%s", use)
	}
	fs := newFlagSet(a, "card test", "[-step op[=arg]]... [-source NAME] VALUE...")
	var steps listFlag
	fs.Var(&steps, "step", "a transform step, op or op=arg (repeat, in order); see roster card -h for the steps")
	source := fs.String("source", "", "use the card transform of this source, set up in the console")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print each value's steps as JSON")
	if err := parseFlags(fs, args[1:]); err != nil { // the values follow the flags
		return err
	}
	values := fs.Args()
	if len(values) == 0 {
		return usageErrorf("give the card values to test, as a reader sends them or the directory holds them")
	}
	if *source != "" && len(steps) > 0 {
		return usageErrorf("give -step or -source, not both")
	}
	p, err := parseCardSteps(steps, "step")
	if err != nil {
		return err
	}
	if *source != "" {
		if p, err = storedCardSteps(ctx, a, store, *source); err != nil {
			return err
		}
	}

	type result struct {
		Value  string             `json:"value"`
		Steps  []roster.CardTrace `json:"steps"`
		Result string             `json:"result,omitempty"`
		Error  string             `json:"error,omitempty"`
	}
	var out []result
	failed := false
	for _, v := range values {
		r := result{Value: v, Steps: p.Trace(v)}
		if final, err := p.Apply(v); err != nil {
			r.Error, failed = roster.ErrorMessage(err), true
		} else {
			r.Result = final
		}
		out = append(out, r)
	}
	if *asJSON {
		if err := printJSON(a, out); err != nil {
			return err
		}
	} else {
		for _, r := range out {
			fmt.Fprintf(a.stdout, "%q\n", r.Value)
			tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
			for i, s := range r.Steps {
				if s.Err != "" {
					fmt.Fprintf(tw, "  %d\t%s\trefused: %s\n", i+1, s.Step, s.Err)
				} else {
					fmt.Fprintf(tw, "  %d\t%s\t%s\n", i+1, s.Step, s.Out)
				}
			}
			tw.Flush()
			if r.Error != "" {
				fmt.Fprintf(a.stdout, "  => no card (%s)\n", r.Error)
			} else {
				fmt.Fprintf(a.stdout, "  => %s\n", r.Result)
			}
		}
	}
	if failed {
		return errRulesFailed
	}
	return nil
}

func printCardOps(a *app) {
	fmt.Fprintln(a.stdout, "steps:")
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	for _, o := range roster.CardOps {
		name := string(o.Op)
		if o.Arg != "" {
			name += "=" + strings.ToUpper(o.Arg)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, o.Doc)
	}
	tw.Flush()
}

// parseCardSteps reads -step/-card-step values into a pipeline.
func parseCardSteps(steps []string, flagName string) (roster.CardPipeline, error) {
	var p roster.CardPipeline
	for _, s := range steps {
		st, err := roster.ParseCardStep(s)
		if err != nil {
			return nil, usageErrorf("-%s %s: %s", flagName, s, roster.ErrorMessage(err))
		}
		p = append(p, st)
	}
	if err := p.Validate(); err != nil {
		return nil, usageErrorf("%s", roster.ErrorMessage(err))
	}
	return p, nil
}

// storedCardSteps reads the card transform of a source set up in the
// console.
func storedCardSteps(ctx context.Context, a *app, store storeFlags, name string) (roster.CardPipeline, error) {
	place, err := store.place(a, "")
	if err != nil {
		return nil, err
	}
	db, err := place.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	src, err := storedSource(ctx, a, db, place.Dir, name)
	if err != nil {
		return nil, err
	}
	return src.Mapping.CardTransforms, nil
}
