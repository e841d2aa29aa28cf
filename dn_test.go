package roster

import "testing"

func TestDNKey(t *testing.T) {
	for _, tt := range []struct {
		name, dn, want string
	}{
		{"a plain DN is its lower case", "CN=John Smith,OU=People,DC=corp,DC=test", "cn=john smith,ou=people,dc=corp,dc=test"},
		{"spaces after the commas are ignored", "cn=John Smith, ou=People, dc=corp", "cn=john smith,ou=people,dc=corp"},
		{"spaces around every separator are ignored", " cn = John Smith , ou = People ", "cn=john smith,ou=people"},
		{"an escaped comma", `cn=Smith\, John,dc=x`, `cn=smith\, john,dc=x`},
		{"a comma escaped in hex is the same comma", `cn=Smith\2C John,dc=x`, `cn=smith\, john,dc=x`},
		{"hex digits in either case", `cn=Smith\2c John,dc=x`, `cn=smith\, john,dc=x`},
		{"a quoted value", `cn="Smith, John",dc=x`, `cn=smith\, john,dc=x`},
		{"hex-escaped UTF-8 is the character", `cn=caf\c3\a9,dc=x`, "cn=café,dc=x"},
		{"upper-case hex-escaped UTF-8", `CN=CAF\C3\89,DC=X`, "cn=café,dc=x"},
		{"a decomposed accent is composed", "cn=cafe\u0301,dc=x", "cn=café,dc=x"},
		{"non-ASCII letters are lower-cased", "cn=ÉMILE,dc=x", "cn=émile,dc=x"},
		{"the parts of a multi-valued RDN are sorted", "uid=B + cn=A,dc=x", "cn=a+uid=b,dc=x"},
		{"a known OID is named", "2.5.4.3=John,0.9.2342.19200300.100.1.25=x", "cn=john,dc=x"},
		{"an OID with the OID. prefix", "OID.2.5.4.11=Staff,dc=x", "ou=staff,dc=x"},
		{"an unknown OID stays", "1.2.3.4=v,dc=x", "1.2.3.4=v,dc=x"},
		{"a BER-encoded string value", "cn=#04024869,dc=x", "cn=hi,dc=x"},
		{"a BER value that is not a string", "cn=#0201FF,dc=x", "cn=#0201ff,dc=x"},
		{"a semicolon separates RDNs", "cn=a;dc=x", "cn=a,dc=x"},
		{"an unescaped trailing space is dropped", "cn=a   ,dc=x", "cn=a,dc=x"},
		{"an escaped trailing space is kept", `cn=a\ ,dc=x`, `cn=a\ ,dc=x`},
		{"an escaped leading space is kept", `cn=\ a,dc=x`, `cn=\ a,dc=x`},
		{"a leading # is escaped", `cn=\#1,dc=x`, `cn=\#1,dc=x`},
		{"escaped specials stay escaped", `cn=a\+b\;c\<d\>e\"f\\g,dc=x`, `cn=a\+b\;c\<d\>e\"f\\g,dc=x`},
		{"an escaped equals sign needs no escape", `cn=a\=b,dc=x`, `cn=a=b,dc=x`},
		{"a control character is written in hex", `cn=a\0Ab,dc=x`, `cn=a\0ab,dc=x`},
		{"a byte that is not UTF-8 is written in hex", `cn=\FF,dc=x`, `cn=\ff,dc=x`},
		{"ASCII letters beside bytes that are not UTF-8 are lower-cased", `CN=Caf\E9,DC=x`, `cn=caf\e9,dc=x`},
		{"an empty value", "cn=,dc=x", "cn=,dc=x"},
		{"the empty DN", "", ""},
		{"spaces only", "   ", ""},
		{"not a DN: its trimmed lower-case text", "  Not A DN ", "not a dn"},
		{"a trailing comma is not a DN", "CN=a,", "cn=a,"},
		{"a bad escape is not a DN", `CN=a\zz`, `cn=a\zz`},
		{"a type that starts with a hyphen is not a DN", "-cn=a", "-cn=a"},
		{"an OID with an empty part is not a DN", "2..3=a", "2..3=a"},
		{"an unclosed quote is not a DN", `cn="a,dc=x`, `cn="a,dc=x`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := DNKey(tt.dn); got != tt.want {
				t.Errorf("DNKey(%q) = %q, want %q", tt.dn, got, tt.want)
			}
		})
	}
}

func TestDNKeyTellsDNsApart(t *testing.T) {
	for _, pair := range [][2]string{
		{"cn=a,dc=x", "cn=b,dc=x"},
		{`cn=a\,dc=x`, "cn=a,dc=x"}, // one RDN whose value holds a comma, against two
		{`cn=a\+uid=b,dc=x`, "cn=a+uid=b,dc=x"},
		{`cn=a\ ,dc=x`, "cn=a,dc=x"},
		{"cn=john  smith,dc=x", "cn=john smith,dc=x"}, // inner spaces count: AD tells them apart
		{"cn=#0201ff,dc=x", `cn=\#0201ff,dc=x`},
		{"ou=a,dc=x", "cn=a,dc=x"},
	} {
		if DNKey(pair[0]) == DNKey(pair[1]) {
			t.Errorf("%q and %q have one key, %q", pair[0], pair[1], DNKey(pair[0]))
		}
	}
}

func TestDNWithin(t *testing.T) {
	for _, tt := range []struct {
		name     string
		dn, base string
		want     bool
	}{
		{"an entry under the base", "cn=a,ou=People,dc=x", "OU=people, DC=X", true},
		{"the base itself", "dc=x", "DC=x", true},
		{"every DN is within the root", "cn=a,dc=x", "", true},
		{"a parent is not within its child", "dc=x", "cn=a,dc=x", false},
		{"an RDN that only ends like the base", "cn=a,dc=xy", "dc=y", false},
		{"an escaped comma does not split an RDN", `cn=a\,dc=x`, "dc=x", false},
		{"hex escapes in the base", "cn=a,ou=caf\u00e9,dc=x", `ou=caf\c3\a9,dc=x`, true},
		{"a sibling", "cn=a,ou=one,dc=x", "ou=two,dc=x", false},
		{"text that is not a DN, the same", "Not A DN", "not a dn", true},
		{"text that is not a DN, a suffix after a comma", "x,Not A DN", "not a dn", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := DNWithin(tt.dn, tt.base); got != tt.want {
				t.Errorf("DNWithin(%q, %q) = %v, want %v", tt.dn, tt.base, got, tt.want)
			}
		})
	}
}
