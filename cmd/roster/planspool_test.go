package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/rosterhq/roster"
)

// The spool leaves no file behind, even while it is open, and gives back
// each kind's changes in the order they came, with the users' names.
func TestAPlanSpoolKeepsNoFileAndGivesBackWhatItTook(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s, err := newPlanSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Fatalf("the open spool shows in TMPDIR as %s", entries[0].Name())
	}
	first := []roster.Change{
		{Kind: roster.Create, Login: "ada", DN: "CN=Ada", User: &roster.User{Name: "Ada L", Email: "ada@corp.test"}},
		{Kind: roster.Update, Login: "bob", DN: "CN=Bob", Fields: []roster.FieldChange{{Field: "email", Before: "a@x", After: "b@x"}}, User: &roster.User{Name: "Bob"}},
		{Kind: roster.Create, Login: "cy", DN: "CN=Cy", User: &roster.User{Name: "Cy \"Quoted\" <x>"}},
	}
	if err := s.add(first); err != nil {
		t.Fatal(err)
	}
	logins := func(kind roster.Kind) (out []string) {
		t.Helper()
		if err := s.each(kind, func(ch roster.Change) error {
			out = append(out, ch.Login+"/"+ch.User.Name)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := logins(roster.Create); !reflect.DeepEqual(got, []string{"ada/Ada L", `cy/Cy "Quoted" <x>`}) {
		t.Fatalf("the creates: %q", got)
	}
	// Changes added after a read come after the others.
	if err := s.add([]roster.Change{{Kind: roster.Disable, Login: "dan", Reason: "gone", User: &roster.User{}}}); err != nil {
		t.Fatal(err)
	}
	if got := logins(""); !reflect.DeepEqual(got, []string{"ada/Ada L", "bob/Bob", `cy/Cy "Quoted" <x>`, "dan/"}) {
		t.Fatalf("every change: %q", got)
	}
	var update roster.Change
	s.each(roster.Update, func(ch roster.Change) error { update = ch; return nil })
	if update.DN != "CN=Bob" || !reflect.DeepEqual(update.Fields, first[1].Fields) || update.User.Email != "" {
		t.Fatalf("the update came back as %+v (user %+v)", update, update.User)
	}
	if s.len() != 4 || s.counts[roster.Create] != 2 {
		t.Fatalf("len %d, counts %v", s.len(), s.counts)
	}
}

// The plan's table is laid out as text/tabwriter laid out the whole list
// before the spool (minimum width 2, padding 2), though it prints a line
// at a time: columns as wide as the widest kind and login (in
// characters, not bytes), field changes under the detail.
func TestAChangeTablePrintsAsATabwriterWould(t *testing.T) {
	held := []roster.Change{
		{Kind: roster.Disable, Login: "ada", Reason: "gone from the directory", User: &roster.User{}},
		{Kind: roster.Delete, Login: "björn-ångström", Reason: "gone", User: &roster.User{}},
		{Kind: roster.Disable, Login: "", Reason: "no login", User: &roster.User{}},
	}
	mixed := append([]roster.Change{
		{Kind: roster.Create, Login: "zoë", DN: "CN=Zoë", Fields: []roster.FieldChange{{Field: "name", After: "x"}}, User: &roster.User{Name: "Zoë Ü"}},
		{Kind: roster.Update, Login: "bob", Fields: []roster.FieldChange{{Field: "email", Before: "a@x", After: "b@x"}, {Field: "name", Before: "B", After: "Bob \"B\""}}, User: &roster.User{}},
		{Kind: roster.Rename, Login: "new", OldLogin: "old", User: &roster.User{}},
	}, held...)
	for _, changes := range [][]roster.Change{held, mixed, mixed[:1]} {
		var want bytes.Buffer
		tw := tabwriter.NewWriter(&want, 2, 4, 2, ' ', 0)
		for _, ch := range changes {
			detail := ch.Reason
			switch ch.Kind {
			case roster.Create:
				detail = ch.User.Name + "  " + ch.DN
			case roster.Rename:
				detail = ch.OldLogin + " -> " + ch.Login
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", ch.Kind, ch.Login, detail)
			if ch.Kind != roster.Create {
				for _, f := range ch.Fields {
					fmt.Fprintf(tw, "  \t\t%s: %q -> %q\n", f.Field, f.Before, f.After)
				}
			}
		}
		tw.Flush()
		var got bytes.Buffer
		printHeld(&app{stdout: &got}, changes)
		if _, table, _ := strings.Cut(got.String(), "\n"); table != want.String() {
			t.Errorf("the table:\n%s\nwant:\n%s", table, want.String())
		}
	}
}

// Where no temporary file can be made, the plan is kept in memory, and
// the caller is told why.
func TestAPlanSpoolWithoutATemporaryFolderKeepsThePlanInMemory(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	s, err := newPlanSpool()
	if err == nil || s == nil || s.mem == nil {
		t.Fatalf("newPlanSpool() = %v, %v; want an in-memory spool and the reason", s, err)
	}
	defer s.close()
	if err := s.add([]roster.Change{{Kind: roster.Create, Login: "ada", User: &roster.User{Name: "Ada"}}, {Kind: roster.Delete, Login: "bob"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	s.each("", func(ch roster.Change) error {
		got = append(got, string(ch.Kind)+" "+ch.Login+" "+ch.User.Name)
		return nil
	})
	if !reflect.DeepEqual(got, []string{"create ada Ada", "delete bob "}) {
		t.Fatalf("the plan in memory: %q", got)
	}
}
