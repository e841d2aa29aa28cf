package main

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster"
)

// runAdmin is the way back in for an admin who lost the password: it
// runs on the server itself, with access to the data folder.
func runAdmin(ctx context.Context, a *app, args []string) error {
	const use = "use: roster admin reset-password [-name admin] [-data DIR]"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(a.stdout, use)
		return nil
	}
	if len(args) == 0 || args[0] != "reset-password" {
		return usageErrorf("%s", use)
	}
	fs := newFlagSet(a, "admin reset-password", "[-name admin] [-data DIR]")
	name := fs.String("name", "admin", "the admin whose password is reset")
	store := addStoreFlags(fs, "", "")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := store.open(ctx, a)
	if err != nil {
		return err
	}
	defer db.Close()
	admin, _, err := db.AdminByName(ctx, *name)
	if err != nil {
		return err
	}
	pw, hash, generated, err := newAdminPassword(a)
	if err != nil {
		return err
	}
	// Every session of the admin ends: "" matches none to keep.
	if err := db.SetAdminPassword(ctx, admin.ID, hash, ""); err != nil {
		return err
	}
	// A guesser may have locked the name: the new password must work.
	if _, err := db.ClearLockout(ctx, roster.AdminLockoutKey(admin.Name)); err != nil {
		return err
	}
	a.log.Info("admin password reset", "admin", admin.Name)
	if generated {
		fmt.Fprintf(a.stdout, "the new password of %s is %s (shown this once); all its sessions are signed out\n", admin.Name, pw.Reveal())
	} else {
		fmt.Fprintf(a.stdout, "the password of %s is now the one in ROSTER_ADMIN_PASSWORD; all its sessions are signed out\n", admin.Name)
	}
	return nil
}
