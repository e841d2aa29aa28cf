package ldap

import (
	"fmt"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/rosterhq/roster"
)

// testDirectory is a Directory of an OpenLDAP source that maps entries,
// without a connection.
func testDirectory(keepCase bool) *Directory {
	src := &roster.Source{Type: roster.OpenLDAP, Mapping: roster.Mapping{KeepLoginCase: keepCase}}
	return &Directory{src: src, mapping: src.Mapping.WithDefaults(src.Type), now: time.Now}
}

func TestRecordLogin(t *testing.T) {
	for _, tt := range []struct {
		name     string
		uid      []string
		keepCase bool
		want     string
		why      string
	}{
		{"a plain login", []string{"jsmith"}, false, "jsmith", ""},
		{"spaces around it go", []string{"  JSmith \t"}, false, "jsmith", ""},
		{"a decomposed accent is composed", []string{"Jose\u0301"}, false, "jos\u00e9", ""},
		{"the case is kept when the source says so", []string{" Jose\u0301 "}, true, "Jos\u00e9", ""},
		{"no login attribute", nil, false, "", "has no uid"},
		{"spaces only", []string{"   "}, false, "", "white space only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var attrs []*goldap.EntryAttribute
			attrs = append(attrs, &goldap.EntryAttribute{Name: "entryUUID", ByteValues: [][]byte{[]byte("0F1E2D3C-0000-4000-8000-000000000001")}})
			if tt.uid != nil {
				attrs = append(attrs, &goldap.EntryAttribute{Name: "uid", ByteValues: bytesOf(tt.uid)})
			}
			rec, why := testDirectory(tt.keepCase).record(newEntry(&goldap.Entry{DN: "uid=x,dc=example,dc=test", Attributes: attrs}))
			if tt.why == "" && (why != "" || rec.Login != tt.want) {
				t.Fatalf("record = %q, %q; want login %q", rec.Login, why, tt.want)
			}
			if tt.why != "" && !strings.Contains(why, tt.why) {
				t.Fatalf("record says %q, want it to say %q", why, tt.why)
			}
			if rec.Anchor != "0f1e2d3c-0000-4000-8000-000000000001" {
				t.Errorf("the anchor is %q, also for a bad entry (so the engine keeps the user)", rec.Anchor)
			}
		})
	}
}

func bytesOf(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}

func TestSearchPlan(t *testing.T) {
	for _, tt := range []struct {
		name  string
		bases []string
		want  string
	}{
		{"one base", []string{"dc=x"}, "[{dc=x []}]"},
		{"two apart", []string{"ou=a,dc=x", "ou=b,dc=x"}, "[{ou=a,dc=x []} {ou=b,dc=x []}]"},
		{"a base under an earlier one is not searched", []string{"dc=x", "ou=a, DC=X"}, "[{dc=x []}]"},
		{"the same base twice, spelt two ways", []string{"OU=A,DC=X", "ou=a, dc=x"}, "[{OU=A,DC=X []}]"},
		{"a base above an earlier one skips its entries", []string{"ou=a,dc=x", "dc=x"}, "[{ou=a,dc=x []} {dc=x [ou=a,dc=x]}]"},
		{"an escaped comma is not a level", []string{`ou=a\,dc=x`, "dc=x"}, `[{ou=a\,dc=x []} {dc=x []}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(searchPlan(tt.bases)); got != tt.want {
				t.Errorf("searchPlan(%q) = %s, want %s", tt.bases, got, tt.want)
			}
		})
	}
	plan := searchPlan([]string{"ou=a,dc=x", "dc=x"})
	for dn, want := range map[string]bool{"cn=u,OU=A, dc=x": true, "cn=u,ou=b,dc=x": false, "ou=a,dc=x": true} {
		if got := plan[1].readBefore(dn); got != want {
			t.Errorf("readBefore(%s) = %v, want %v", dn, got, want)
		}
	}
}
