package roster

import (
	"encoding/json"
	"testing"
)

// roster sync -json prints changes: their JSON is an interface, and
// moving the type (from package reconcile to the root) or adding the
// store's hints (User, PrintCodeWas, CardsChanged) must not change a
// byte of it.
func TestChangeJSONIsStable(t *testing.T) {
	changes := []Change{
		{Kind: Rename, Login: "jsmith2", OldLogin: "jsmith", DN: "CN=J Smith,OU=Staff,DC=corp,DC=test", Reason: "r <&>",
			Fields:       []FieldChange{{Field: "login", Before: "jsmith", After: "jsmith2"}, {Field: "cards", Before: "", After: "0042, 0043"}},
			User:         &User{ID: 7, Login: "x"},
			PrintCodeWas: "abc", CardsChanged: true},
		{Kind: Create, Login: "a", DN: "CN=A"},
		{},
	}
	got, err := json.Marshal(changes)
	if err != nil {
		t.Fatal(err)
	}
	// As reconcile.Change encoded it before the move.
	const want = `[{"kind":"rename","login":"jsmith2","old_login":"jsmith","dn":"CN=J Smith,OU=Staff,DC=corp,DC=test","reason":"r \u003c\u0026\u003e","fields":[{"field":"login","before":"jsmith","after":"jsmith2"},{"field":"cards","before":"","after":"0042, 0043"}]},{"kind":"create","login":"a","dn":"CN=A"},{"kind":"","login":"","dn":""}]`
	if string(got) != want {
		t.Errorf("JSON of changes:\n got %s\nwant %s", got, want)
	}
	for _, k := range []struct {
		kind Kind
		want string
	}{{Create, "create"}, {Update, "update"}, {Rename, "rename"}, {Disable, "disable"}, {Reenable, "re-enable"}, {Delete, "delete"}} {
		if string(k.kind) != k.want {
			t.Errorf("kind %q, want %q", k.kind, k.want)
		}
	}
}
