// Package labdata generates the people and groups that the directory lab
// loads into Samba AD and OpenLDAP.
//
// The data is deterministic: the same seed and count give the same users,
// groups and memberships byte for byte, so tests can compute what the
// directories must return instead of trusting a fixture. The first n users
// of a large set are the same as the users of a set of n, which lets the AD
// side hold fewer users than the OpenLDAP side while both agree on the users
// they share.
package labdata

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Account is one user entry in the lab directories.
type Account struct {
	Index       int    // position in Data.Users
	Login       string // sAMAccountName on AD, uid on OpenLDAP; always ASCII
	Given       string
	Surname     string
	Display     string
	MailLocal   string // local part of the mail address; empty: no mail
	Department  string
	CostCenter  string
	EmployeeID  string
	Cards       []string // card numbers as readers report them; may be empty
	PrintCode   string   // empty when the user has none
	Disabled    bool     // AD only: userAccountControl carries ACCOUNTDISABLE
	Service     bool     // the bind account roster uses; not a person
	HasPassword bool     // only accounts that tests log in as get a password
}

// Group is one group entry. Members names accounts by login, Nested names
// child groups by their Name.
type Group struct {
	Name    string
	Members []string
	Nested  []string
}

// Data is everything the lab loads into one directory.
type Data struct {
	Seed   uint64
	Users  []Account
	Groups []Group
}

// Fixed account logins. Tests and demos refer to these by name.
const (
	ServiceLogin  = "svc-print"     // ordinary, non-admin bind account
	TestLogin     = "test-user"     // an enabled person with a password
	DisabledLogin = "test-disabled" // a disabled person with a password (AD)
	TestPrintCode = "2580"          // the test user's print code, its alone

	BigGroup       = "Printing - All Users" // more than 1,500 members: forces range retrieval
	BigGroupSize   = 1600
	AllStaffGroup  = "All Staff" // top of the three-level nesting
	CycleGroupA    = "Cycle A"   // Cycle A -> Cycle B -> Cycle C -> Cycle A
	CycleGroupB    = "Cycle B"
	CycleGroupC    = "Cycle C"
	teamsPerDept   = 3
	disabledModulo = 50 // every 50th generated user is disabled on AD
	disabledOffset = 7
)

// Generate returns the lab data for n generated users plus the fixed
// accounts. n must be at least 10 so that every awkward case exists.
func Generate(seed uint64, n int) (*Data, error) {
	if n < 10 {
		return nil, fmt.Errorf("labdata: at least 10 users are needed, got %d", n)
	}
	d := &Data{Seed: seed}
	d.Users = append(d.Users,
		Account{Login: ServiceLogin, Given: "Print", Surname: "Service", Display: "Print Service (roster)",
			Department: "IT", CostCenter: "CC-1000", Service: true, HasPassword: true},
		Account{Login: TestLogin, Given: "Test", Surname: "User", Display: "Test User", MailLocal: TestLogin,
			Department: departments[0].name, CostCenter: departments[0].costCenter, HasPassword: true,
			Cards: []string{"0000000001"}, PrintCode: TestPrintCode},
		Account{Login: DisabledLogin, Given: "Test", Surname: "Disabled", Display: "Test Disabled", MailLocal: DisabledLogin,
			Department: departments[1].name, CostCenter: departments[1].costCenter, HasPassword: true,
			Disabled: true},
	)
	for i := 0; i < n; i++ {
		d.Users = append(d.Users, person(seed, i))
	}
	for i := range d.Users {
		d.Users[i].Index = i
	}
	d.Groups = groups(d.Users, n)
	return d, nil
}

// person builds generated user i. Each user draws from its own random
// stream, so user i does not depend on how many users come after it.
func person(seed uint64, i int) Account {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	g := givenNames[r.IntN(len(givenNames))]
	s := surnames[r.IntN(len(surnames))]
	dep := departments[r.IntN(len(departments))]
	login := fmt.Sprintf("%c%s%d", g.ascii[0], s.ascii, i)
	a := Account{
		Login:      login,
		Given:      g.native,
		Surname:    s.native,
		Display:    g.native + " " + s.native,
		MailLocal:  login,
		Department: dep.name,
		CostCenter: dep.costCenter,
		EmployeeID: fmt.Sprintf("E%06d", 100000+i),
		Disabled:   i%disabledModulo == disabledOffset,
	}
	// A 10-digit decimal card number, unique per user: 7919 is prime and
	// does not divide 9e9, so i -> i*7919 mod 9e9 never repeats for the
	// counts the lab uses.
	a.Cards = []string{fmt.Sprintf("%010d", 1_000_000_000+(uint64(i)*7919+seed*1_000_003)%9_000_000_000)}
	if i%10 == 1 {
		// A second badge, as a reader that reports the UID in hex would.
		a.Cards = append(a.Cards, fmt.Sprintf("%08X", r.Uint32()))
	}
	if i%3 == 0 {
		// Codes of 4 to 6 digits, as sites pick them.
		a.PrintCode = fmt.Sprintf("%06d", r.IntN(1_000_000))[:4+r.IntN(3)]
		if a.PrintCode == TestPrintCode {
			// Shared codes happen among generated users, on purpose;
			// the test user's stays its own at every lab size, since
			// tests identify it by its code (a lab of 20,000 drew it).
			a.PrintCode = "9" + a.PrintCode[1:]
		}
	}
	// The awkward entries every real directory has.
	switch i {
	case 3:
		a.MailLocal = "" // no mail at all
	case 4, 5:
		a.MailLocal = "shared.mailbox" // one mailbox shared by two people
	case 6:
		a.Display = g.native + " " + strings.Repeat("Maximilian-Alexander ", 8) + s.native + " von und zu Hohenberg-Ludwigsburg"
	}
	return a
}

// groups lays out the nesting: users -> team -> department -> All Staff,
// a three-group cycle, and one group big enough to need range retrieval.
func groups(users []Account, n int) []Group {
	var out []Group
	all := Group{Name: AllStaffGroup}
	for _, dep := range departments {
		dept := Group{Name: "Dept " + dep.name}
		teams := make([]Group, teamsPerDept)
		for t := range teams {
			teams[t].Name = fmt.Sprintf("Team %s %d", dep.name, t+1)
		}
		k := 0
		for _, u := range users {
			if u.Service || u.Department != dep.name {
				continue
			}
			teams[k%teamsPerDept].Members = append(teams[k%teamsPerDept].Members, u.Login)
			k++
		}
		for _, t := range teams {
			if len(t.Members) == 0 {
				continue // a groupOfNames needs a member; tiny labs skip empty teams
			}
			out = append(out, t)
			dept.Nested = append(dept.Nested, t.Name)
		}
		if len(dept.Nested) > 0 {
			out = append(out, dept)
			all.Nested = append(all.Nested, dept.Name)
		}
	}
	out = append(out, all)

	generated := users[len(users)-n:]
	big := Group{Name: BigGroup}
	for _, u := range generated[:min(n, BigGroupSize)] {
		big.Members = append(big.Members, u.Login)
	}
	out = append(out, big)

	// The cycle: each group holds two users and the next group.
	cycle := []string{CycleGroupA, CycleGroupB, CycleGroupC}
	for j, name := range cycle {
		out = append(out, Group{
			Name:    name,
			Members: []string{generated[2*j].Login, generated[2*j+1].Login},
			Nested:  []string{cycle[(j+1)%len(cycle)]},
		})
	}
	return out
}

// Group returns the group with the given name, or nil.
func (d *Data) Group(name string) *Group {
	for i := range d.Groups {
		if d.Groups[i].Name == name {
			return &d.Groups[i]
		}
	}
	return nil
}

// MailAt returns the user's mail address in the given mail domain, or ""
// when the user has no mail.
func (a *Account) MailAt(domain string) string {
	if a.MailLocal == "" {
		return ""
	}
	return a.MailLocal + "@" + domain
}

// DisabledLogins returns the logins of the accounts disabled on AD.
func (d *Data) DisabledLogins() []string {
	var out []string
	for _, u := range d.Users {
		if u.Disabled {
			out = append(out, u.Login)
		}
	}
	return out
}

// EntraID is the account's object ID in the lab's Entra ID (the Graph
// double): a version 4 UUID derived from the seed and the login, so
// that the AD lab and the Graph double agree without sharing a file.
func (d *Data) EntraID(u *Account) string {
	h := sha256.Sum256(fmt.Appendf(nil, "entra-id|%d|%s", d.Seed, u.Login))
	h[6] = h[6]&0x0f | 0x40 // version 4
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// AADObjectID is what the AD lab holds in msDS-aadObjectId for the
// account, as Entra DS copies it from Entra ID: EntraID, except that
// every 50th generated user (offset 11) has none and every 50th (offset
// 23) a wrong one, so that a move must fall back to the UPN.
func (d *Data) AADObjectID(u *Account) string {
	switch {
	case u.Index%disabledModulo == 11:
		return ""
	case u.Index%disabledModulo == 23:
		return d.EntraID(&Account{Login: u.Login + "-wrong"})
	}
	return d.EntraID(u)
}
