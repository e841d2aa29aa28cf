package roster

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// dnSeeds are the DNs of the table tests: every spelling DNKey knows, and
// the texts that are not DNs.
var dnSeeds = []string{
	"CN=John Smith,OU=People,DC=corp,DC=test", "cn=John Smith, ou=People, dc=corp", " cn = John Smith , ou = People ",
	`cn=Smith\, John,dc=x`, `cn=Smith\2C John,dc=x`, `cn=Smith\2c John, dc=x`, `cn="Smith, John",dc=x`, `cn="a, b";dc=x`,
	`cn=caf\c3\a9,dc=x`, `CN=CAF\C3\89,DC=X`, "cn=cafe\u0301,dc=x", "cn=ÉMILE,dc=x", "uid=B + cn=A,dc=x",
	`cn=caf\c3\a9+uid=x,dc=y`, "2.5.4.3=John,0.9.2342.19200300.100.1.25=x", "OID.2.5.4.11=Staff,dc=x", "1.2.3.4=v,dc=x",
	"cn=#04024869,dc=x", "cn=#0201FF,dc=x", "cn=a;dc=x", "cn=a   ,dc=x", `cn=a\ ,dc=x`, `cn=\ a,dc=x`, `cn=\#1,dc=x`,
	`cn=a\+b\;c\<d\>e\"f\\g,dc=x`, `cn=a\=b,dc=x`, `cn=a\0Ab,dc=x`, `cn=\FF,dc=x`, `CN=Caf\E9,DC=x`, "cn=,dc=x",
	"cn=john  smith,dc=x", "", "   ", "  Not A DN ", "CN=a,", `CN=a\zz`, "-cn=a", "2..3=a", `cn="a,dc=x`,
	"2.5.4.3=a", `cn=\#1`, `cn=\ff`, "cn=cafe\u0301", " ", "x,y", "a=b=c", `\`, "OID.1.2=x", "OID.",
}

func FuzzDNKey(f *testing.F) {
	for _, s := range dnSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := DNKey(s) // never panics
		// The key of a DN is a DN with the same key. (Text that is not
		// a DN may parse once trimmed and lower-cased: no promise there.)
		if _, ok := parseDN(s); ok {
			if again := DNKey(k); again != k {
				t.Errorf("DNKey is not stable: %q -> %q -> %q", s, k, again)
			}
			if _, ok := parseDN(k); !ok {
				t.Errorf("the key %q of the DN %q is not a DN", k, s)
			}
		}
		if plain, ok := plainDNKey(s); ok {
			rdns, parsed := parseDN(s)
			if !parsed || strings.Join(rdns, ",") != plain {
				t.Errorf("the plain key of %q is %q, the parsed one %q (parsed: %v)", s, plain, strings.Join(rdns, ","), parsed)
			}
		}
		if !DNWithin(s, s) || !DNWithin(s, "") {
			t.Errorf("%q is not within itself or the root", s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(k) {
			t.Errorf("the key of valid UTF-8 %q is not: %q", s, k)
		}
	})
}

// FuzzDNWithin checks DNWithin against DNKey on two DNs: lying within
// each other is having one key, a key lies where its DN lies, and a DN
// with one more RDN lies under it.
func FuzzDNWithin(f *testing.F) {
	for i, s := range dnSeeds {
		f.Add(s, dnSeeds[(i*7+3)%len(dnSeeds)])
		f.Add("cn=x,"+s, s)
	}
	f.Add("cn=a,ou=People,dc=x", "OU=people, DC=X")
	f.Add(`cn=a\,dc=x`, "dc=x")
	f.Add("cn=a,ou=caf\u00e9,dc=x", `ou=caf\c3\a9,dc=x`)
	f.Fuzz(func(t *testing.T, a, b string) {
		within := DNWithin(a, b)
		_, aDN := parseDN(a)
		_, bDN := parseDN(b)
		if !aDN || !bDN {
			return // text that is not a DN: compared as text, no more promised
		}
		ka, kb := DNKey(a), DNKey(b)
		if within && DNWithin(b, a) != (ka == kb) {
			t.Errorf("%q and %q lie within each other, but their keys %q and %q differ", a, b, ka, kb)
		}
		if ka == kb && !within {
			t.Errorf("%q and %q have one key %q, but one does not lie within the other", a, b, ka)
		}
		if got := DNWithin(ka, kb); got != within {
			t.Errorf("DNWithin(%q, %q) = %v, but for their keys %q, %q: %v", a, b, within, ka, kb, got)
		}
		if strings.TrimSpace(b) != "" {
			child := "cn=x," + b
			if !DNWithin(child, b) || DNWithin(b, child) {
				t.Errorf("%q is not under %q, or the other way round", child, b)
			}
			if within && !DNWithin("cn=x,"+a, b) {
				t.Errorf("%q lies within %q, but its child does not", a, b)
			}
		}
	})
}
