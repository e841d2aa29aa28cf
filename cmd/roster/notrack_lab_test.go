package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// TestIncrementalWithoutSyncprov runs a private slapd without the
// syncprov overlay, so without contextCSN: incremental runs fall back to
// modifyTimestamp. Its users are loaded with a modifyTimestamp of 2020,
// so a run that reads them was not incremental.
func TestIncrementalWithoutSyncprov(t *testing.T) {
	var ldif strings.Builder
	ldif.WriteString("dn: dc=corp,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: corp\no: corp\n\n")
	ldif.WriteString("dn: ou=people,dc=corp,dc=test\nobjectClass: organizationalUnit\nou: people\n\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&ldif, "dn: uid=u%d,ou=people,dc=corp,dc=test\nobjectClass: inetOrgPerson\nuid: u%d\ncn: User %d\nsn: %d\n"+
			"displayName: User %d\nmail: u%d@corp.test\ncreateTimestamp: 20200101000000Z\nmodifyTimestamp: 20200101000000Z\n\n", i, i, i, i, i, i)
	}
	sl := startCorpSlapd(t, ldif.String())
	port, dir, pw := sl.port, sl.dir, sl.pwFile

	conn := sl.admin(t)

	data := t.TempDir()
	args := []string{"sync", "-data", data, "-name", "plain", "-type", "openldap", "-address", fmt.Sprintf("127.0.0.1:%d", port), "-tls", "ldaps",
		"-domain", "corp.test", "-base-dn", "ou=people,dc=corp,dc=test", "-login", "cn=admin,dc=corp,dc=test", "-password-file", pw,
		"-ca", filepath.Join(dir, "corp.test.cer"), "-incremental"}
	r := syncJSON(t, exitOK, args...)
	if r.Run.Mode != roster.RunFull || r.Run.Created != 5 {
		t.Fatalf("first run: mode %s, %s", r.Run.Mode, counts(r.Run))
	}
	if r = syncJSON(t, exitOK, args...); r.Run.Mode != roster.RunIncremental || r.Run.Seen != 0 {
		t.Fatalf("unchanged: mode %s, %s, notes %q; want nothing read", r.Run.Mode, counts(r.Run), r.Run.Notes)
	}
	m := goldap.NewModifyRequest("uid=u2,ou=people,dc=corp,dc=test", nil)
	m.Replace("displayName", []string{"Changed Two"})
	if err := conn.Modify(m); err != nil {
		t.Fatal(err)
	}
	add := goldap.NewAddRequest("uid=u6,ou=people,dc=corp,dc=test", nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	for k, v := range map[string]string{"uid": "u6", "cn": "User 6", "sn": "6", "displayName": "User 6", "mail": "u6@corp.test"} {
		add.Attribute(k, []string{v})
	}
	if err := conn.Add(add); err != nil {
		t.Fatal(err)
	}
	if err := conn.Del(goldap.NewDelRequest("uid=u3,ou=people,dc=corp,dc=test", nil)); err != nil {
		t.Fatal(err)
	}
	r = syncJSON(t, exitOK, args...)
	if r.Run.Mode != roster.RunIncremental || r.Run.Seen != 2 || r.Run.Updated != 1 || r.Run.Created != 1 || r.Run.Disabled != 0 {
		t.Fatalf("after changes: mode %s, %s; want the 2 changed entries read, nobody removed", r.Run.Mode, counts(r.Run))
	}
	// Without syncprov nothing reports deletions: the full sync finds them.
	full := args[:len(args)-1]
	if r = syncJSON(t, exitOK, full...); r.Run.Mode != roster.RunFull || r.Run.Disabled != 1 {
		t.Fatalf("full: mode %s, %s; want u3 disabled", r.Run.Mode, counts(r.Run))
	}
}
