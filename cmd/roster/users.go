package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/rosterhq/roster/sqlstore"
)

func runUsers(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 && args[0] == "show" {
		return runUsersShow(ctx, a, args[1:])
	}
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	fs := newFlagSet(a, "users", "[list] [-q TEXT] [-disabled | -enabled] [-n 50] [-offset N] [-json] | show LOGIN")
	q := fs.String("q", "", "search logins, aliases, names and emails")
	onlyDisabled := fs.Bool("disabled", false, "only disabled users")
	onlyEnabled := fs.Bool("enabled", false, "only enabled users")
	n := fs.Int("n", 50, "users per page")
	offset := fs.Int("offset", 0, "skip this many users")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *onlyDisabled && *onlyEnabled {
		return usageErrorf("-disabled and -enabled exclude each other")
	}
	f := sqlstore.UserFilter{Query: *q, Offset: *offset, Limit: *n}
	if *onlyDisabled || *onlyEnabled {
		f.Disabled = onlyDisabled
	}
	db, err := store.open(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	users, total, err := db.FindUsers(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(a.stdout).Encode(struct {
			Total int `json:"total"`
			Users any `json:"users"`
		}{total, users})
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tEMAIL\tDEPARTMENT\tCARDS\tSTATE")
	for _, u := range users {
		state := "enabled"
		if u.Disabled {
			state = "disabled (" + string(u.DisabledReason) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", u.Login, u.Name, u.Email, u.Department, len(u.Cards), state)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "%d to %d of %d users\n", min(*offset+1, total), min(*offset+len(users), total), total)
	return nil
}

func runUsersShow(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "users show", "LOGIN [-json]")
	store := addStoreFlags(fs, "", "")
	asJSON := fs.Bool("json", false, "print JSON")
	login, err := parseOneArg(fs, args, "the user's login or a former login")
	if err != nil {
		return err
	}
	db, err := store.open(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByLogin(ctx, strings.ToLower(login))
	if err != nil {
		return err
	}
	groups, err := db.UserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(a, struct {
			User         any  `json:"user"`
			PrintCodeSet bool `json:"print_code_set"`
			Groups       any  `json:"groups"`
		}{u, u.PrintCodeHash != "", groups})
	}
	w := a.stdout
	fmt.Fprintf(w, "%s  %s\n", u.Login, u.Name)
	if len(u.Aliases) > 0 {
		fmt.Fprintf(w, "  former logins  %s\n", strings.Join(u.Aliases, ", "))
	}
	fmt.Fprintf(w, "  email          %s\n  department     %s\n  cost center    %s\n  dn             %s\n  anchor         %s\n",
		u.Email, u.Department, u.CostCenter, u.DN, u.Anchor)
	code := "none"
	if u.PrintCodeHash != "" {
		code = "set (****; stored as a keyed hash)"
	}
	fmt.Fprintf(w, "  print code     %s\n", code)
	for _, c := range u.Cards {
		exp := ""
		if !c.ExpiresAt.IsZero() {
			exp = ", expires " + c.ExpiresAt.Format("2006-01-02")
		}
		fmt.Fprintf(w, "  card           %s (%s, %s%s)\n", c.Number, c.Kind, c.Origin, exp)
	}
	state := "enabled"
	if u.Disabled {
		state = "disabled: " + string(u.DisabledReason)
		if !u.MissingSince.IsZero() {
			state += ", missing from the directory since " + u.MissingSince.Local().Format("2006-01-02 15:04")
		}
	}
	fmt.Fprintf(w, "  state          %s\n", state)
	for _, g := range groups {
		fmt.Fprintf(w, "  group          %s\n", g.Name)
	}
	fmt.Fprintf(w, "  created %s, updated %s\n", u.CreatedAt.Local().Format("2006-01-02 15:04"), u.UpdatedAt.Local().Format("2006-01-02 15:04"))
	return nil
}
