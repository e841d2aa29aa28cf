package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// TestIdentityAsTheDirectorySeesIt runs a private slapd loaded with the
// awkward but valid data that restores and migrations leave behind.
// slapd stores the member values as written, so the members' DNs are
// spelt otherwise than their entries': spaces after the commas, \, for
// \2C, hex-escaped UTF-8, upper-case types. Logins come with spaces
// around them, in NFD and NFC, or as spaces only; the base DNs overlap;
// and an entry is deleted and made again with its login.
func TestIdentityAsTheDirectorySeesIt(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	person := func(dn, cn, uid string) string {
		return fmt.Sprintf("dn:: %s\nobjectClass: inetOrgPerson\ncn:: %s\nsn: x\nuid:: %s\n\n", b64(dn), b64(cn), b64(uid))
	}
	group := func(dn string, members ...string) string {
		s := fmt.Sprintf("dn: %s\nobjectClass: groupOfNames\ncn: %s\n", dn, strings.TrimPrefix(strings.Split(dn, ",")[0], "cn="))
		for _, m := range members {
			s += "member:: " + b64(m) + "\n"
		}
		return s + "\n"
	}
	ldif := "dn: dc=corp,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: corp\no: corp\n\n" +
		"dn: ou=people,dc=corp,dc=test\nobjectClass: organizationalUnit\nou: people\n\n" +
		"dn: ou=groups,dc=corp,dc=test\nobjectClass: organizationalUnit\nou: groups\n\n" +
		person(`cn=Smith\2C John,ou=people,dc=corp,dc=test`, "Smith, John", "jsmith") +
		person(`uid=caf\c3\a9,ou=people,dc=corp,dc=test`, "Cafe", "caf\u00e9") +
		person("cn=spaced,ou=people,dc=corp,dc=test", "spaced", "  Spaced \t") +
		person("cn=blank,ou=people,dc=corp,dc=test", "blank", "   ") +
		person("cn=jose nfd,ou=people,dc=corp,dc=test", "jose nfd", "jose\u0301") +
		person("cn=jose nfc,ou=people,dc=corp,dc=test", "jose nfc", "jos\u00e9") +
		person("cn=plain,ou=people,dc=corp,dc=test", "plain", "plain") +
		group("cn=printers,ou=groups,dc=corp,dc=test",
			`cn=Smith\, John, ou=people, dc=corp, dc=test`,
			`UID=CAF\C3\A9 , OU=People,DC=corp,DC=test`,
			"cn = Staff , ou=groups,dc=corp,dc=test") +
		group("cn=staff,ou=groups,dc=corp,dc=test",
			"cn=spaced,ou=people,dc=corp,dc=test",
			"CN=Plain, OU=People, DC=corp, DC=test")
	sl := startCorpSlapd(t, ldif)
	port, dir, pw := sl.port, sl.dir, sl.pwFile

	data := t.TempDir()
	args := []string{"sync", "-data", data, "-name", "hostile", "-type", "openldap", "-address", fmt.Sprintf("127.0.0.1:%d", port), "-tls", "ldaps",
		"-domain", "corp.test", "-login", "cn=admin,dc=corp,dc=test", "-password-file", pw, "-ca", filepath.Join(dir, "corp.test.cer"),
		// Overlapping bases, the first spelt with spaces.
		"-base-dn", "ou=People, dc=corp, dc=test", "-base-dn", "DC=corp,DC=test"}
	r := syncJSON(t, exitOK, args...)
	// Seven entries: the blank login is a bad entry (not counted as
	// seen), one josé clashes with the other.
	errs := entryErrors(r.Run)
	if r.Run.Seen != 6 || r.Run.Created != 5 || r.Run.Failed != 2 ||
		!strings.Contains(errs, "uid is white space only") || !strings.Contains(errs, "the login jos\u00e9 is also the login of another entry") {
		t.Fatalf("first sync: %s\n%s", counts(r.Run), errs)
	}
	type shown struct {
		User   roster.User
		Groups []roster.Group
	}
	show := func(login string) shown {
		t.Helper()
		code, out, errOut := runCLI(t, nil, "users", "show", "-data", data, "-json", login)
		if code != exitOK {
			t.Fatalf("users show %q = %d\n%s%s", login, code, out, errOut)
		}
		var s shown
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("users show %q: %v\n%s", login, err, out)
		}
		return s
	}
	groupsOf := func(login string) string { return groupsOfUser(show(login).Groups) }
	for login, want := range map[string]string{
		"jsmith":     "printers",       // \, and spaces after the commas against \2C
		"caf\u00e9":  "printers",       // hex-escaped UTF-8 and upper-case types
		"spaced":     "printers staff", // a nested group named with spaces around = and ,
		"plain":      "printers staff",
		"jose\u0301": "", // typed in NFD, found in NFC
		" Spaced\t ": "printers staff",
	} {
		if got := groupsOf(login); got != want {
			t.Errorf("%q is in the groups %q, want %q", login, got, want)
		}
	}
	if r := syncJSON(t, exitOK, args...); r.Run.Seen != 6 || r.Run.Created+r.Run.Updated+r.Run.Renamed+r.Run.Disabled != 0 || r.Run.Failed != 2 {
		t.Fatalf("an unchanged directory: %s\n%s", counts(r.Run), entryErrors(r.Run))
	}

	// jsmith's entry is deleted and made again: a new entryUUID.
	old := show("jsmith").User
	conn := sl.admin(t)
	dn := `cn=Smith\2C John,ou=people,dc=corp,dc=test`
	if err := conn.Del(goldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatal(err)
	}
	add := goldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	for k, v := range map[string]string{"cn": "Smith, John", "sn": "Smith", "uid": "jsmith"} {
		add.Attribute(k, []string{v})
	}
	if err := conn.Add(add); err != nil {
		t.Fatal(err)
	}
	r = syncJSON(t, exitOK, args...)
	if r.Run.Created != 1 || r.Run.Renamed != 1 || r.Run.Disabled != 1 || r.Run.Failed != 2 ||
		!strings.Contains(strings.Join(r.Run.Notes, "\n"), "logins went from users the directory no longer has") {
		t.Fatalf("a re-created entry: %s, notes %q\n%s", counts(r.Run), r.Run.Notes, entryErrors(r.Run))
	}
	now := show("jsmith")
	if now.User.Anchor == old.Anchor || now.User.Disabled || groupsOfUser(now.Groups) != "printers" {
		t.Fatalf("jsmith is now %+v in %v; want the new entry, in printers", now.User, now.Groups)
	}
	gone := show("jsmith~" + old.Anchor).User
	if gone.ID != old.ID || !gone.Disabled || !slices.Contains(gone.Aliases, "jsmith") {
		t.Fatalf("the old jsmith is %+v; want it disabled, with jsmith as a former login", gone)
	}
	if r := syncJSON(t, exitOK, args...); r.Run.Created+r.Run.Updated+r.Run.Renamed+r.Run.Disabled != 0 {
		t.Fatalf("after the hand-over: %s\n%s", counts(r.Run), entryErrors(r.Run))
	}
}

func groupsOfUser(groups []roster.Group) string {
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	return strings.Join(names, " ")
}

func entryErrors(r roster.Run) string {
	var out []string
	for _, ee := range r.EntryErrors {
		out = append(out, ee.DN+": "+ee.Message)
	}
	return strings.Join(out, "\n")
}
