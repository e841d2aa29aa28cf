package main

import (
	"os"
	"reflect"
	"testing"

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
