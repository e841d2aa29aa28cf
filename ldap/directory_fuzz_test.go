package ldap

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labdata"
)

// fuzzEntry reads an entry written as LDIF lines: "dn: ...", then
// "name: value", or "name:: base64" for a value LDIF cannot carry as text.
func fuzzEntry(text string) *goldap.Entry {
	e := &goldap.Entry{}
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			continue
		}
		raw := []byte(strings.TrimPrefix(value, " "))
		if v, ok := strings.CutPrefix(value, ":"); ok {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil {
				raw = b
			}
		}
		if strings.EqualFold(name, "dn") {
			e.DN = string(raw)
			continue
		}
		e.Attributes = append(e.Attributes, &goldap.EntryAttribute{Name: name, Values: []string{string(raw)}, ByteValues: [][]byte{raw}})
	}
	return e
}

// labEntries are the lab's users as its LDIF holds them, with the anchor
// the directory adds: every awkward case the lab promises (names beyond
// ASCII, a 200-character name, no mail, shared mailboxes, two cards, a
// disabled account).
func labEntries(tb testing.TB) (ad, openldap []string) {
	tb.Helper()
	d, err := labdata.Generate(1, 12)
	if err != nil {
		tb.Fatal(err)
	}
	var adLDIF, olLDIF bytes.Buffer
	if err := d.WriteAD(&adLDIF, labdata.AD{BaseDN: "DC=corp,DC=test", Domain: "corp.test", UsersOU: "OU=AADDC Users,DC=corp,DC=test"}, labdata.Passwords{}); err != nil {
		tb.Fatal(err)
	}
	if err := d.WriteOpenLDAP(&olLDIF, labdata.OpenLDAP{BaseDN: "dc=example,dc=test", Domain: "example.test"}, labdata.Passwords{}); err != nil {
		tb.Fatal(err)
	}
	for i, e := range strings.Split(adLDIF.String(), "\n\n") {
		if strings.Contains(e, "objectClass: user") {
			guid := bytes.Repeat([]byte{byte(i)}, 16)
			ad = append(ad, e+"\nobjectGUID:: "+base64.StdEncoding.EncodeToString(guid))
		}
	}
	for i, e := range strings.Split(olLDIF.String(), "\n\n") {
		if strings.Contains(e, "uid: ") {
			openldap = append(openldap, e+fmt.Sprintf("\nentryUUID: 0F1E2D3C-0000-4000-8000-%012d", i))
		}
	}
	return ad, openldap
}

// FuzzRecord maps a directory entry to a record, with a mapping given as
// the API and the configuration give it (JSON), as a sync does.
func FuzzRecord(f *testing.F) {
	ad, openldap := labEntries(f)
	mappings := []string{"", `{"keep_login_case": true}`,
		`{"login": "userPrincipalName", "cards": ["pager", "otherPager"], "card_separators": ";, ", "extra": ["title", "employeeID"]}`,
		`{"cards": ["printCardNumber"], "card_transforms": [{"op": "extract", "arg": "([0-9A-Fa-f]{8})"}, {"op": "reverse-bytes"}, {"op": "hex-to-dec"}, {"op": "pad", "arg": "10"}]}`,
		`{"login": "mail", "name": "cn", "print_code": "employeeNumber", "cards": ["pager"], "card_transforms": [{"op": "strip-zeros"}]}`,
	}
	for i, e := range ad {
		f.Add(true, e, mappings[i%len(mappings)])
	}
	for i, e := range openldap {
		f.Add(false, e, mappings[i%len(mappings)])
	}
	f.Add(true, "dn: CN=x\nobjectGUID:: AAEC\nsAMAccountName: x", "")
	f.Add(false, "dn: uid=x,dc=example,dc=test\nentryUUID: A\nuid:   \t", "")
	f.Add(true, "dn: CN=x\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\nsAMAccountName: Jose\u0301\npager: 1;2;;1\nuserAccountControl: 514\naccountExpires: 9223372036854775806", "")
	f.Fuzz(func(t *testing.T, isAD bool, text, mapping string) {
		typ := roster.OpenLDAP
		if isAD {
			typ = roster.ActiveDirectory
		}
		src := &roster.Source{Name: "fuzz", Type: typ, Address: "127.0.0.1", TLSMode: roster.LDAPS, Domain: "corp.test",
			Login: "svc-print", Password: "pw"}
		if mapping != "" && json.Unmarshal([]byte(mapping), &src.Mapping) != nil {
			return
		}
		if src.Validate() != nil {
			return // a sync never starts with a source that does not validate
		}
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		d := &Directory{src: src, mapping: src.Mapping.WithDefaults(typ), now: func() time.Time { return now }}
		e := newEntry(fuzzEntry(text))
		rec, why := d.record(e)
		again, whyAgain := d.record(e)
		if why != whyAgain || !equalRecords(rec, again) {
			t.Fatalf("one entry mapped twice gave %+v (%q), then %+v (%q)", rec, why, again, whyAgain)
		}
		checkRecord(t, d, e, rec, why)
	})
}

func equalRecords(a, b roster.Record) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// checkRecord checks what a mapped entry promises the sync engine.
func checkRecord(t *testing.T, d *Directory, e *Entry, rec roster.Record, why string) {
	t.Helper()
	m := d.mapping
	if rec.DN != e.DN {
		t.Errorf("the record's DN %q is not the entry's %q", rec.DN, e.DN)
	}
	if d.src.Type.IsAD() {
		guid := e.Raw("objectGUID")
		if len(guid) != 16 {
			if why == "" || !strings.Contains(why, "objectGUID") {
				t.Fatalf("an objectGUID of %d bytes was taken (%q)", len(guid), why)
			}
			return
		}
		if rec.Anchor != GUIDString(guid) || len(rec.Anchor) != 36 {
			t.Errorf("the anchor %q is not the GUID %x", rec.Anchor, guid)
		}
	} else if rec.Anchor != strings.ToLower(e.Value("entryUUID")) {
		t.Errorf("the anchor %q is not the entryUUID %q in lower case", rec.Anchor, e.Value("entryUUID"))
	}
	if why != "" {
		if rec.Login != "" && strings.TrimSpace(e.Value(string(m.Login))) != "" {
			t.Errorf("a refused entry (%q) has the login %q", why, rec.Login)
		}
		return
	}
	// The login: never empty, in the form NormalizeLogin gives, in lower
	// case unless the source keeps it, and stable: the login mapped from
	// an entry holding the login is that login.
	if rec.Login == "" || rec.Login != roster.NormalizeLogin(rec.Login) {
		t.Errorf("the login %q is empty or not normalized", rec.Login)
	}
	same := newEntry(&goldap.Entry{DN: e.DN, Attributes: []*goldap.EntryAttribute{
		{Name: string(m.Login), ByteValues: [][]byte{[]byte(rec.Login)}},
		{Name: "objectGUID", ByteValues: [][]byte{e.Raw("objectGUID")}},
		{Name: "entryUUID", ByteValues: [][]byte{e.Raw("entryUUID")}},
	}})
	if again, why := d.record(same); why != "" || again.Login != rec.Login {
		t.Errorf("the login %q maps to %q (%q) when read again", rec.Login, again.Login, why)
	}
	for _, f := range []struct{ got, attr string }{
		{rec.Name, m.Name}, {rec.Email, m.Email}, {rec.Department, m.Department}, {rec.CostCenter, m.CostCenter}, {rec.PrintCode, m.PrintCode},
	} {
		if f.got != e.Value(f.attr) {
			t.Errorf("the field from %s is %q, not the entry's %q", f.attr, f.got, e.Value(f.attr))
		}
	}
	// Cards: each a transform's output, none empty, none twice; and
	// without transforms, trimmed pieces of the values, split at the
	// separators.
	var pieces []string
	for _, attr := range m.Cards {
		for _, v := range e.Values(attr) {
			for _, c := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(m.CardSeparators, r) }) {
				if c = strings.TrimSpace(c); c != "" {
					pieces = append(pieces, c)
				}
			}
		}
	}
	if len(rec.Cards)+len(rec.CardProblems) > len(pieces) {
		t.Errorf("%d cards and %d problems from %d card values", len(rec.Cards), len(rec.CardProblems), len(pieces))
	}
	for i, c := range rec.Cards {
		if c == "" || slices.Contains(rec.Cards[:i], c) {
			t.Errorf("the cards %q hold an empty or repeated one", rec.Cards)
		}
		if len(m.CardTransforms) == 0 && !slices.Contains(pieces, c) {
			t.Errorf("the card %q is none of the values %q", c, pieces)
		}
	}
	if len(m.CardTransforms) == 0 && len(rec.CardProblems) > 0 {
		t.Errorf("card problems without a transform: %q", rec.CardProblems)
	}
	for attr, vs := range rec.Extra {
		if keep := DialectOf(d.src.Type).Keep; slices.Contains(keep, attr) && !slices.Contains(m.Extra, attr) {
			// Kept for a move, whatever the mapping: one value, lower case.
			if len(vs) != 1 || vs[0] == "" || vs[0] != strings.ToLower(vs[0]) {
				t.Errorf("the kept %s = %q", attr, vs)
			}
			continue
		}
		if !slices.Contains(m.Extra, attr) || !slices.Equal(vs, e.Values(attr)) || len(vs) == 0 {
			t.Errorf("the extra %s = %q, not the entry's %q", attr, vs, e.Values(attr))
		}
	}
	if !d.src.Type.IsAD() && rec.Disabled {
		t.Error("an OpenLDAP entry is disabled: only AD says so")
	}
	if d.src.Type.IsAD() && rec.Disabled != adDisabled(e.Value("userAccountControl"), e.Value("accountExpires"), d.now()) {
		t.Error("the disabled flag is not AD's account state")
	}
	// rangedValues finds a plain attribute, with no ranged one beside
	// it, as the last range.
	for _, name := range e.Names() {
		if strings.Contains(name, ";") || slices.ContainsFunc(e.Names(), func(n string) bool {
			base, _, ranged := strings.Cut(n, ";")
			return ranged && strings.EqualFold(base, name)
		}) {
			continue
		}
		if vals, _, last, found := rangedValues(e, name); !found || !last || len(vals) == 0 {
			t.Errorf("rangedValues(%q) = %q, last %v, found %v", name, vals, last, found)
		}
	}
}
