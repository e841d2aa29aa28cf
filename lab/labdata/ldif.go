package labdata

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// Passwords holds the secrets written into the LDIF. They come from the
// lab's private secrets file, never from the command line.
type Passwords struct {
	Service string // svc-print
	Test    string // test-user and test-disabled
	Admin   string // OpenLDAP rootdn, for tests that change the directory
}

func (p Passwords) forAccount(a *Account) string {
	if a.Service {
		return p.Service
	}
	return p.Test
}

// AD describes where the AD side of the lab puts its entries.
type AD struct {
	BaseDN  string // DC=corp,DC=test
	Domain  string // corp.test: UPN suffix and mail domain
	UsersOU string // OU=AADDC Users,DC=corp,DC=test, as in Entra DS
}

// UserDN returns the DN of an account in the AD lab. The CN carries the
// login so that two people with the same name never collide.
func (ad AD) UserDN(a *Account) string {
	return "CN=" + escapeDNValue(fmt.Sprintf("%s %s (%s)", a.Given, a.Surname, a.Login)) + "," + ad.UsersOU
}

// AdminLogin is the lab administrator's login on AD.
const AdminLogin = "lab-admin"

// AdminDN is where the lab administrator lives: CN=Users, outside the
// Entra DS-like OU that syncs read.
func (ad AD) AdminDN() string { return "CN=" + AdminLogin + ",CN=Users," + ad.BaseDN }

// GroupDN returns the DN of a group in the AD lab.
func (ad AD) GroupDN(name string) string {
	return "CN=" + escapeDNValue(name) + "," + ad.UsersOU
}

// UAC flags, as Windows defines them.
const (
	uacAccountDisable   = 0x2
	uacPasswdNotReqd    = 0x20
	uacNormalAccount    = 0x200
	globalSecurityGroup = -2147483646
)

// WriteAD writes the entries for ldbadd: the OUs, every user, then every
// group with its user members. Nested memberships go to WriteADNesting,
// because a group cycle cannot be added in one pass.
func (d *Data) WriteAD(w io.Writer, ad AD, pw Passwords) error {
	b := bufio.NewWriter(w)
	for _, ou := range []string{"AADDC Users", "AADDC Computers"} {
		entry(b, "OU="+ou+","+ad.BaseDN)
		attr(b, "objectClass", "organizationalUnit")
		attr(b, "ou", ou)
		end(b)
	}
	for i := range d.Users {
		u := &d.Users[i]
		entry(b, ad.UserDN(u))
		attr(b, "objectClass", "user")
		attr(b, "sAMAccountName", u.Login)
		attr(b, "userPrincipalName", u.Login+"@"+ad.Domain)
		attr(b, "givenName", u.Given)
		attr(b, "sn", u.Surname)
		attr(b, "displayName", u.Display)
		attr(b, "mail", u.MailAt(ad.Domain))
		attr(b, "department", u.Department)
		attr(b, "division", u.CostCenter)
		attr(b, "employeeID", u.EmployeeID)
		// AD has no card attribute; pager holds the badge and otherPager
		// any further ones, as many print sites do.
		if len(u.Cards) > 0 {
			attr(b, "pager", u.Cards[0])
			for _, c := range u.Cards[1:] {
				attr(b, "otherPager", c)
			}
		}
		attr(b, "employeeNumber", u.PrintCode)
		// The Entra ID object ID, as Entra DS keeps it: an attribute the
		// lab's schema extension adds (lab/samba/aad-schema.ldif).
		attr(b, "msDS-aadObjectId", d.AADObjectID(u))
		uac := uacNormalAccount
		if !u.HasPassword {
			uac |= uacPasswdNotReqd // passwords cost 19 ms each; only test logins get one
		}
		if u.Disabled {
			uac |= uacAccountDisable
		}
		attr(b, "userAccountControl", fmt.Sprint(uac))
		if u.HasPassword {
			binaryAttr(b, "unicodePwd", adPassword(pw.forAccount(u)))
		}
		end(b)
	}
	if pw.Admin != "" {
		// The lab's own administrator, outside AADDC Users so no sync
		// sees it: tests sign in as it to change the directory between
		// runs (rename, disable, delete). It joins Domain Admins in
		// WriteADNesting.
		entry(b, ad.AdminDN())
		attr(b, "objectClass", "user")
		attr(b, "sAMAccountName", AdminLogin)
		attr(b, "userPrincipalName", AdminLogin+"@"+ad.Domain)
		attr(b, "userAccountControl", fmt.Sprint(uacNormalAccount))
		binaryAttr(b, "unicodePwd", adPassword(pw.Admin))
		end(b)
	}
	byLogin := d.loginIndex()
	for _, g := range d.Groups {
		entry(b, ad.GroupDN(g.Name))
		attr(b, "objectClass", "group")
		attr(b, "sAMAccountName", g.Name)
		attr(b, "groupType", fmt.Sprint(globalSecurityGroup))
		for _, m := range g.Members {
			attr(b, "member", ad.UserDN(byLogin[m]))
		}
		end(b)
	}
	return b.Flush()
}

// WriteADNesting writes the ldbmodify changes that put groups into groups,
// and the lab administrator into Domain Admins.
func (d *Data) WriteADNesting(w io.Writer, ad AD, withAdmin bool) error {
	b := bufio.NewWriter(w)
	if withAdmin {
		entry(b, "CN=Domain Admins,CN=Users,"+ad.BaseDN)
		fmt.Fprintln(b, "changetype: modify")
		fmt.Fprintln(b, "add: member")
		attr(b, "member", ad.AdminDN())
		fmt.Fprintln(b, "-")
		end(b)
	}
	for _, g := range d.Groups {
		if len(g.Nested) == 0 {
			continue
		}
		entry(b, ad.GroupDN(g.Name))
		fmt.Fprintln(b, "changetype: modify")
		fmt.Fprintln(b, "add: member")
		for _, n := range g.Nested {
			attr(b, "member", ad.GroupDN(n))
		}
		fmt.Fprintln(b, "-")
		end(b)
	}
	return b.Flush()
}

// OpenLDAP describes where the OpenLDAP side of the lab puts its entries.
type OpenLDAP struct {
	BaseDN string // dc=example,dc=test
	Domain string // example.test: mail domain
	// RandomUUIDs gives each account an entryUUID at random (version 4,
	// fixed by Seed and the login), as AD's objectGUIDs are, instead of
	// the time-based ones slapd gives in the order the entries load: a
	// sync's anchors then come in no order, as they do from AD.
	RandomUUIDs bool
	Seed        uint64
}

// uuid returns the random entryUUID of the account login.
func (o OpenLDAP) uuid(login string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "entryUUID %d %s", o.Seed, login))
	h[6] = h[6]&0x0f | 0x40 // version 4
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// PeopleDN, GroupsDN and SystemDN are the three branches of the tree.
func (o OpenLDAP) PeopleDN() string { return "ou=people," + o.BaseDN }
func (o OpenLDAP) GroupsDN() string { return "ou=groups," + o.BaseDN }
func (o OpenLDAP) SystemDN() string { return "ou=system," + o.BaseDN }

// UserDN returns the DN of an account: people under ou=people, the
// service account under ou=system, as OpenLDAP sites usually keep them.
func (o OpenLDAP) UserDN(a *Account) string {
	if a.Service {
		return "uid=" + escapeDNValue(a.Login) + "," + o.SystemDN()
	}
	return "uid=" + escapeDNValue(a.Login) + "," + o.PeopleDN()
}

// GroupDN returns the DN of a group.
func (o OpenLDAP) GroupDN(name string) string {
	return "cn=" + escapeDNValue(name) + "," + o.GroupsDN()
}

// WriteOpenLDAP writes the whole tree for slapadd. slapadd bypasses the
// memberof overlay, so memberOf is written here: direct memberships only,
// as the overlay itself would keep them.
func (d *Data) WriteOpenLDAP(w io.Writer, o OpenLDAP, pw Passwords) error {
	b := bufio.NewWriter(w)
	entry(b, o.BaseDN)
	attr(b, "objectClass", "dcObject")
	attr(b, "objectClass", "organization")
	attr(b, "dc", strings.TrimPrefix(strings.SplitN(o.BaseDN, ",", 2)[0], "dc="))
	attr(b, "o", "Example Test")
	end(b)
	for _, ou := range []string{"people", "groups", "system"} {
		entry(b, "ou="+ou+","+o.BaseDN)
		attr(b, "objectClass", "organizationalUnit")
		attr(b, "ou", ou)
		end(b)
	}

	byLogin := d.loginIndex()
	memberOf := map[string][]string{} // member DN -> group DNs
	for _, g := range d.Groups {
		gdn := o.GroupDN(g.Name)
		for _, m := range g.Members {
			k := o.UserDN(byLogin[m])
			memberOf[k] = append(memberOf[k], gdn)
		}
		for _, n := range g.Nested {
			k := o.GroupDN(n)
			memberOf[k] = append(memberOf[k], gdn)
		}
	}

	for i := range d.Users {
		u := &d.Users[i]
		dn := o.UserDN(u)
		entry(b, dn)
		if o.RandomUUIDs {
			attr(b, "entryUUID", o.uuid(u.Login))
		}
		if u.Service {
			attr(b, "objectClass", "account")
			attr(b, "objectClass", "simpleSecurityObject")
			attr(b, "uid", u.Login)
			attr(b, "description", u.Display)
		} else {
			attr(b, "objectClass", "inetOrgPerson")
			if len(u.Cards) > 0 || u.PrintCode != "" {
				attr(b, "objectClass", "printIdentity")
			}
			attr(b, "uid", u.Login)
			attr(b, "cn", u.Display)
			attr(b, "givenName", u.Given)
			attr(b, "sn", u.Surname)
			attr(b, "displayName", u.Display)
			attr(b, "mail", u.MailAt(o.Domain))
			attr(b, "ou", u.Department)
			attr(b, "departmentNumber", u.CostCenter)
			attr(b, "employeeNumber", u.EmployeeID)
			for _, c := range u.Cards {
				attr(b, "printCardNumber", c)
			}
			attr(b, "printCode", u.PrintCode)
		}
		if u.HasPassword {
			attr(b, "userPassword", ssha(pw.forAccount(u), u.Login))
		}
		for _, g := range memberOf[dn] {
			attr(b, "memberOf", g)
		}
		end(b)
	}
	for _, g := range d.Groups {
		gdn := o.GroupDN(g.Name)
		entry(b, gdn)
		attr(b, "objectClass", "groupOfNames")
		attr(b, "cn", g.Name)
		for _, m := range g.Members {
			attr(b, "member", o.UserDN(byLogin[m]))
		}
		for _, n := range g.Nested {
			attr(b, "member", o.GroupDN(n))
		}
		for _, p := range memberOf[gdn] {
			attr(b, "memberOf", p)
		}
		end(b)
	}
	return b.Flush()
}

func (d *Data) loginIndex() map[string]*Account {
	m := make(map[string]*Account, len(d.Users))
	for i := range d.Users {
		m[d.Users[i].Login] = &d.Users[i]
	}
	return m
}

func entry(b *bufio.Writer, dn string) { attr(b, "dn", dn) }
func end(b *bufio.Writer)              { b.WriteByte('\n') }

// attr writes one LDIF line, base64-encoding values that LDIF cannot carry
// as plain text (RFC 2849 SAFE-STRING). Empty values are skipped: an
// attribute the user lacks is simply absent.
func attr(b *bufio.Writer, name, value string) {
	if value == "" {
		return
	}
	if safeLDIF(value) {
		fmt.Fprintf(b, "%s: %s\n", name, value)
		return
	}
	binaryAttr(b, name, []byte(value))
}

func binaryAttr(b *bufio.Writer, name string, value []byte) {
	fmt.Fprintf(b, "%s:: %s\n", name, base64.StdEncoding.EncodeToString(value))
}

func safeLDIF(s string) bool {
	if s[0] == ' ' || s[0] == ':' || s[0] == '<' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\n' || c == '\r' || c > 127 {
			return false
		}
	}
	return true
}

// escapeDNValue escapes an RDN value as RFC 4514 requires.
func escapeDNValue(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, r),
			r == '#' && i == 0,
			r == ' ' && (i == 0 || i == len(s)-1):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// adPassword encodes a password the way AD's unicodePwd wants it: the
// password in double quotes, as UTF-16LE.
func adPassword(pw string) []byte {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		out[2*i], out[2*i+1] = byte(c), byte(c>>8)
	}
	return out
}

// ssha hashes a password in OpenLDAP's {SSHA} scheme. The salt is derived
// from the login so that the LDIF stays reproducible; this is a lab, and
// the salt only has to differ between accounts.
func ssha(pw, salt string) string {
	s := sha1.Sum([]byte("roster-lab:" + salt))
	h := sha1.New()
	h.Write([]byte(pw))
	h.Write(s[:8])
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), s[:8]...))
}
