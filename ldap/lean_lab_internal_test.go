package ldap

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
)

// The lean decoder of search result entries gives, for every user of the
// lab's directories and every attribute they hold (binary objectGUIDs,
// UTF-8 names, multi-valued cards), what go-ldap's decoder gives for the
// same bytes: the wire hands each message it decoded to the test, which
// decodes it again as go-ldap does. The same bytes, not a second read: the
// lab is shared with tests that change entries meanwhile.
func TestLabLeanEntriesEqualGoLDAPs(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range []struct {
		name   string
		dir    labenv.Directory
		mode   roster.TLSMode
		anchor string
	}{
		{"AD over LDAPS", labenv.AD, roster.LDAPS, "objectGUID"},
		{"AD over StartTLS", labenv.AD, roster.StartTLS, "objectGUID"},
		{"OpenLDAP over LDAPS", labenv.OpenLDAP, roster.LDAPS, "entryUUID"},
		{"OpenLDAP over StartTLS", labenv.OpenLDAP, roster.StartTLS, "entryUUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := env.Source(t, tc.dir, tc.mode)
			ctx, cancel := context.WithTimeout(context.Background(), labenv.Budget(60*time.Second))
			defer cancel()
			c, err := Dial(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Bind(ctx); err != nil {
				t.Fatal(err)
			}
			if c.wire.lean == nil {
				t.Fatal("the connection has no lean decoder")
			}
			var mu sync.Mutex
			checked, mismatch := 0, ""
			c.wire.lean.check = func(msg []byte, e *Entry) {
				want, ok := goEntry(msg)
				mu.Lock()
				defer mu.Unlock()
				checked++
				switch d := ""; {
				case mismatch != "":
				case !ok:
					mismatch = fmt.Sprintf("go-ldap refuses an entry the lean decoder took: %x", msg)
				default:
					if d = sameEntry(e, want); d != "" {
						mismatch = e.DN + ": " + d
					}
				}
			}
			st, err := c.Search(ctx, SearchRequest{BaseDN: src.SearchBases()[0], Scope: ScopeSubtree,
				Filter: DialectOf(src.Type).UserFilter(""), Attributes: []string{"*", tc.anchor}}, func(*Entry) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if mismatch != "" {
				t.Fatal(mismatch)
			}
			// Every entry went through the lean decoder, and was checked.
			if st.Entries == 0 || checked != st.Entries {
				t.Fatalf("the search read %d entries, the lean decoder decoded %d", st.Entries, checked)
			}
		})
	}
}
