package labdata

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func generate(t *testing.T, seed uint64, n int) *Data {
	t.Helper()
	d, err := Generate(seed, n)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generate(t, 7, 300), generate(t, 7, 300)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed and count gave different data")
	}
	if c := generate(t, 8, 300); reflect.DeepEqual(a.Users, c.Users) {
		t.Fatal("a different seed gave the same users")
	}
}

// The AD side holds fewer users than OpenLDAP; both must agree on the
// users they share.
func TestSmallerSetIsAPrefixOfTheLargerOne(t *testing.T) {
	small, large := generate(t, 1, 50), generate(t, 1, 500)
	if !reflect.DeepEqual(small.Users, large.Users[:len(small.Users)]) {
		t.Fatal("the first users of a larger set differ from the smaller set")
	}
}

func TestGenerateRefusesTinyCounts(t *testing.T) {
	if _, err := Generate(1, 9); err == nil {
		t.Fatal("Generate(1, 9) succeeded; the awkward entries need at least 10 users")
	}
}

func TestDataHoldsEveryCaseTheLabPromises(t *testing.T) {
	d := generate(t, 1, 2000)
	logins, cards := map[string]bool{}, map[string]string{}
	mails := map[string]int{}
	var noMail, longName, nonLatin, accented, printCodes, disabled, multiCard int
	for _, u := range d.Users {
		if logins[u.Login] {
			t.Errorf("login %s appears twice", u.Login)
		}
		logins[u.Login] = true
		if len(u.Login) > 20 {
			t.Errorf("login %s is longer than sAMAccountName's 20 characters", u.Login)
		}
		for _, c := range u.Cards {
			if other, dup := cards[c]; dup {
				t.Errorf("card %s belongs to %s and %s", c, other, u.Login)
			}
			cards[c] = u.Login
		}
		if len(u.Cards) > 1 {
			multiCard++
		}
		if u.MailLocal == "" {
			noMail++
		} else {
			mails[u.MailLocal]++
		}
		if len([]rune(u.Display)) > 200 {
			longName++
		}
		for _, r := range u.Display {
			if unicode.In(r, unicode.Han, unicode.Cyrillic, unicode.Greek, unicode.Arabic, unicode.Hangul, unicode.Hiragana, unicode.Hebrew) {
				nonLatin++
				break
			}
			if unicode.Is(unicode.Latin, r) && r > 127 {
				accented++
				break
			}
		}
		if u.PrintCode != "" {
			printCodes++
			if l := len(u.PrintCode); l < 4 || l > 6 {
				t.Errorf("print code %q of %s is not 4 to 6 digits", u.PrintCode, u.Login)
			}
		}
		if u.Disabled {
			disabled++
		}
	}
	shared := 0
	for _, n := range mails {
		if n > 1 {
			shared++
		}
	}
	counts := map[string]int{
		"users without mail": noMail, "mails shared by two users": shared, "very long display names": longName,
		"non-Latin names": nonLatin, "accented names": accented, "print codes": printCodes,
		"disabled accounts": disabled, "users with two cards": multiCard,
	}
	for what, n := range counts {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	if printCodes == len(d.Users) {
		t.Error("every user has a print code; only some should")
	}
}

func TestGroupsNestThreeLevelsWithACycleAndABigGroup(t *testing.T) {
	d := generate(t, 1, 2000)
	byName := map[string]*Group{}
	for i := range d.Groups {
		byName[d.Groups[i].Name] = &d.Groups[i]
	}
	// depth: a group holding users directly is level 1.
	var depth func(name string, seen map[string]bool) int
	depth = func(name string, seen map[string]bool) int {
		if seen[name] {
			return 0
		}
		seen[name] = true
		best := 0
		for _, n := range byName[name].Nested {
			best = max(best, depth(n, seen))
		}
		if best == 0 && len(byName[name].Members) > 0 {
			return 1
		}
		return best + 1
	}
	if got := depth(AllStaffGroup, map[string]bool{}); got != 3 {
		t.Errorf("All Staff nests %d levels deep, want 3", got)
	}
	// Follow the cycle from A: it must come back to A.
	at, steps := CycleGroupA, 0
	for steps < 10 {
		at = byName[at].Nested[0]
		steps++
		if at == CycleGroupA {
			break
		}
	}
	if at != CycleGroupA || steps != 3 {
		t.Errorf("the cycle from %s did not return in 3 steps", CycleGroupA)
	}
	if n := len(d.Group(BigGroup).Members); n <= 1500 {
		t.Errorf("the big group has %d members; range retrieval needs more than 1500", n)
	}
	for _, g := range d.Groups {
		if len(g.Members)+len(g.Nested) == 0 {
			t.Errorf("group %s is empty; groupOfNames needs a member", g.Name)
		}
	}
}

func TestLDIFEncodesWhatPlainTextCannotCarry(t *testing.T) {
	d := generate(t, 1, 40)
	var buf bytes.Buffer
	if err := d.WriteOpenLDAP(&buf, OpenLDAP{BaseDN: "dc=example,dc=test", Domain: "example.test"}, Passwords{Service: "s", Test: "t"}); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(buf.String(), "\n") {
		for _, r := range line {
			if r > 127 {
				t.Fatalf("line %d carries non-ASCII text outside base64: %q", i+1, line)
			}
		}
	}
	if !strings.Contains(buf.String(), "userPassword: {SSHA}") || strings.Contains(buf.String(), "userPassword: s\n") {
		t.Error("passwords are not hashed with {SSHA}")
	}
}

func TestEscapeDNValue(t *testing.T) {
	tests := map[string]string{
		"Research & Development": "Research & Development",
		"Smith, John":            `Smith\, John`,
		" lead":                  `\ lead`,
		"#1":                     `\#1`,
		"a+b=c":                  `a\+b\=c`,
	}
	for in, want := range tests {
		if got := escapeDNValue(in); got != want {
			t.Errorf("escapeDNValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// Tests identify the test user by its print code, at any lab size: no
// generated user draws it (seed 1 drew it among 20,000 users, which made
// the terminal's answer a shared-code refusal).
func TestTheTestUsersCodeIsItsAlone(t *testing.T) {
	d := generate(t, 1, 20000)
	var holders []string
	for _, u := range d.Users {
		if u.PrintCode == TestPrintCode {
			holders = append(holders, u.Login)
		}
	}
	if len(holders) != 1 || holders[0] != TestLogin {
		t.Fatalf("print code %s is held by %v, want only %s", TestPrintCode, holders, TestLogin)
	}
}

// Random entryUUIDs: one per account, version 4, fixed by the seed, in
// no order; none unless asked for, so that slapd gives its own.
func TestRandomEntryUUIDs(t *testing.T) {
	d := generate(t, 1, 200)
	uuids := func(o OpenLDAP) []string {
		var buf bytes.Buffer
		if err := d.WriteOpenLDAP(&buf, o, Passwords{Service: "s", Test: "t"}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, line := range strings.Split(buf.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "entryUUID: "); ok {
				out = append(out, v)
			}
		}
		return out
	}
	o := OpenLDAP{BaseDN: "dc=example,dc=test", Domain: "example.test"}
	if got := uuids(o); len(got) != 0 {
		t.Fatalf("without RandomUUIDs the LDIF carries %d entryUUIDs", len(got))
	}
	o.RandomUUIDs, o.Seed = true, 1
	got := uuids(o)
	if len(got) != len(d.Users) {
		t.Fatalf("%d entryUUIDs for %d accounts", len(got), len(d.Users))
	}
	seen, rising := map[string]bool{}, 0
	for i, u := range got {
		if len(u) != 36 || u[14] != '4' || !strings.ContainsAny(u[19:20], "89ab") || seen[u] {
			t.Fatalf("entryUUID %q is not a new version 4 UUID", u)
		}
		seen[u] = true
		if i > 0 && u > got[i-1] {
			rising++
		}
	}
	if rising < len(got)/4 || rising > len(got)*3/4 {
		t.Errorf("%d of %d entryUUIDs sort after the one before: not in random order", rising, len(got)-1)
	}
	if again := uuids(o); !reflect.DeepEqual(again, got) {
		t.Error("the same seed gave other entryUUIDs")
	}
	o.Seed = 2
	if other := uuids(o); other[0] == got[0] {
		t.Error("another seed gave the same entryUUIDs")
	}
}
