package ldap_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/ldap"
)

// TestLabMarkNamesTheDomainController checks the cursor an ordinary
// account reads from Samba: the DC's NTDS Settings DN with its invocation
// ID, and a USN that never goes back. OpenLDAP gives its suffix and its
// contextCSN.
func TestLabMarkNamesTheDomainController(t *testing.T) {
	env := labenv.Require(t)
	ctx := context.Background()
	d, err := ldap.Dialer{}.Open(ctx, env.Source(t, labenv.AD, roster.LDAPS), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, err := d.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != roster.CursorUSN || !regexp.MustCompile(`^CN=NTDS Settings,.+\|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(a.Server) {
		t.Fatalf("cursor %+v: want the NTDS Settings DN and the invocation ID", a)
	}
	b, err := d.Mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := strconv.ParseUint(a.Value, 10, 64)
	y, _ := strconv.ParseUint(b.Value, 10, 64)
	if x == 0 || y < x || b.Server != a.Server {
		t.Fatalf("marks %+v then %+v", a, b)
	}
	if err := d.Changed(ctx, roster.Cursor{Kind: "other", Value: "1"}, nil, nil); roster.ErrorCode(err) != roster.EINVALID {
		t.Fatalf("a foreign cursor gave %v, want EINVALID", err)
	}

	o, err := ldap.Dialer{}.Open(ctx, env.Source(t, labenv.OpenLDAP, roster.LDAPS), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	c, err := o.Mark(ctx)
	if err != nil || c.Kind != roster.CursorCSN || !strings.EqualFold(c.Server, env.Get("LAB_OL_BASE_DN")) || !c.Valid() {
		t.Fatalf("OpenLDAP mark %+v, %v; want the suffix's contextCSN", c, err)
	}
	if now := time.Now().UTC().Format("20060102150405.000000Z"); c.Value > now {
		t.Fatalf("OpenLDAP's last change %s is after now %s", c.Value, now)
	}
}
