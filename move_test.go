package roster

import (
	"strings"
	"testing"
)

// A move matches by msDS-aadObjectId first, else by userPrincipalName
// confirmed by mail or employee ID; an unconfirmed or doubled match is
// left alone, never guessed.
func TestPlanMove(t *testing.T) {
	user := func(id int64, login, mail string, extra map[string]string) *User {
		u := &User{ID: id, Login: login, Email: mail, Anchor: "guid-" + login, Extra: map[string][]string{}}
		for k, v := range extra {
			u.Extra[k] = []string{v}
		}
		return u
	}
	users := []*User{
		user(1, "ann", "ann@corp.test", map[string]string{AttrAADObjectID: "OBJ-ANN", "userPrincipalName": "ann@corp.test"}),
		user(2, "bob", "bob@corp.test", map[string]string{"userPrincipalName": "bob@corp.test"}),                                      // no object ID: UPN + mail
		user(3, "cid", "", map[string]string{AttrAADObjectID: "obj-wrong", "userPrincipalName": "cid@corp.test", "employeeID": "E3"}), // a wrong ID: UPN + employee ID
		user(4, "dan", "dan@elsewhere.test", map[string]string{"userPrincipalName": "dan@corp.test"}),                                 // UPN only: not confirmed
		user(5, "eve", "eve@corp.test", nil), // nothing to match by
		user(6, "fay", "fay@corp.test", map[string]string{AttrAADObjectID: "obj-fay"}),
		user(7, "fay2", "fay@corp.test", map[string]string{AttrAADObjectID: "obj-fay"}), // two users, one object
	}
	objects := []EntraObject{
		{ID: "obj-ann", UPN: "ann@corp.test", Mail: "ann@corp.test"},
		{ID: "obj-bob", UPN: "BOB@corp.test", Mail: "Bob@Corp.Test"},
		{ID: "obj-cid", UPN: "cid@corp.test", EmployeeID: "e3"},
		{ID: "obj-dan", UPN: "dan@corp.test", Mail: "dan@corp.test"},
		{ID: "obj-fay", UPN: "fay@corp.test", Mail: "fay@corp.test"},
	}
	p := PlanMove(users, objects)
	got := map[string]string{}
	for _, m := range p.Matched {
		got[m.Login] = m.To + " by " + m.By
	}
	want := map[string]string{"ann": "obj-ann by msDS-aadObjectId", "bob": "obj-bob by userPrincipalName and mail", "cid": "obj-cid by userPrincipalName and employeeID"}
	if len(got) != len(want) {
		t.Fatalf("matched %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q; want %q", k, got[k], v)
		}
	}
	missing := func(list []MoveMiss) string {
		var out []string
		for _, m := range list {
			out = append(out, m.Login)
		}
		return strings.Join(out, ",")
	}
	if u := missing(p.Unmatched); u != "dan,eve" {
		t.Errorf("unmatched %q; want dan,eve", u)
	}
	// eve's sync recorded nothing to match by: the reason says to sync.
	if r := p.Unmatched[len(p.Unmatched)-1].Why; !strings.Contains(r, "run a full sync") {
		t.Errorf("eve unmatched for %q; want the sync that records the IDs", r)
	}
	if a := missing(p.Ambiguous); a != "fay,fay2" {
		t.Errorf("ambiguous %q; want fay,fay2", a)
	}
}
