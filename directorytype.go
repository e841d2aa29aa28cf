package roster

import "strings"

// DirectoryType is the kind of directory a source reads.
//
// This file holds what a type means for a source's settings, without a
// connection, because validation and the sync engine need it and import
// no directory client: its label, the form of its domain's DN, its
// default search base and the login forms it binds with; its attribute
// preset is DefaultMapping. How roster reads a type on the wire (the
// anchor, the user and group filters, what "disabled" means, the cursor
// kind) is its dialect in package ldap.
type DirectoryType string

const (
	ActiveDirectory DirectoryType = "ad"
	EntraDS         DirectoryType = "entra-ds" // Microsoft Entra Domain Services, formerly Azure AD DS
	OpenLDAP        DirectoryType = "openldap"
	GenericLDAP     DirectoryType = "ldap"
	// EntraID is Microsoft Entra ID itself, read through Microsoft Graph
	// with an app registration (Source.Graph), not over LDAP.
	EntraID DirectoryType = "entra-id"
)

// IsAD reports whether the directory speaks AD's dialect.
func (t DirectoryType) IsAD() bool { return t == ActiveDirectory || t == EntraDS }

func (t DirectoryType) valid() bool {
	switch t {
	case ActiveDirectory, EntraDS, OpenLDAP, GenericLDAP, EntraID:
		return true
	}
	return false
}

// Label is the directory type's name as admins know it.
func (t DirectoryType) Label() string {
	switch t {
	case ActiveDirectory:
		return "Active Directory"
	case EntraDS:
		return "Entra Domain Services"
	case OpenLDAP:
		return "OpenLDAP"
	case EntraID:
		return "Entra ID (Microsoft Graph)"
	}
	return "LDAP"
}

// DomainDN turns a DNS domain into a DN: corp.test becomes
// DC=corp,DC=test. OpenLDAP sites write the attribute in lower case.
func DomainDN(domain string, t DirectoryType) string {
	attr := "DC="
	if t == OpenLDAP || t == GenericLDAP {
		attr = "dc="
	}
	labels := strings.Split(strings.Trim(domain, "."), ".")
	for i, l := range labels {
		labels[i] = attr + l
	}
	return strings.Join(labels, ",")
}

// DefaultMapping is the preset for a directory type: what the lab, and
// most sites, use.
func DefaultMapping(t DirectoryType) Mapping {
	if t == EntraID {
		// Graph property paths. Entra ID has no standard home for cards
		// or print codes: a source names an extension attribute
		// (onPremisesExtensionAttributes/extensionAttribute5), a
		// directory extension (extension_<appId>_<name>) or employeeId.
		return Mapping{
			Login: LoginUPN, Name: "displayName", Email: "mail", Department: "department",
			CostCenter: "companyName", CardSeparators: ";,",
		}
	}
	if t.IsAD() {
		return Mapping{
			Login: LoginSAM, Name: "displayName", Email: "mail", Department: "department",
			CostCenter: "division", Cards: []string{"pager", "otherPager"}, CardSeparators: ";,",
			PrintCode: "employeeNumber",
		}
	}
	return Mapping{
		Login: LoginUID, Name: "displayName", Email: "mail", Department: "ou",
		CostCenter: "departmentNumber", Cards: []string{"printCardNumber"}, CardSeparators: ";,",
		PrintCode: "printCode",
	}
}

// SearchBases returns the base DNs to search: BaseDNs when given,
// otherwise the domain's DN, or for Entra DS its users container
// OU=AADDC Users, where every synced and cloud user lives.
func (s *Source) SearchBases() []string {
	if len(s.BaseDNs) > 0 {
		return s.BaseDNs
	}
	if s.Domain == "" {
		return nil
	}
	dn := DomainDN(s.Domain, s.Type)
	if s.Type == EntraDS {
		dn = "OU=AADDC Users," + dn
	}
	return []string{dn}
}

// BindName returns the name to bind with, completing a bare login:
//   - a DN (cn=…, uid=…) is used as it is, on any directory;
//   - on AD and Entra DS, user@domain and DOMAIN\user are used as they
//     are, since AD accepts both in a simple bind, and a bare user
//     becomes user@<Domain>;
//   - OpenLDAP and generic LDAP bind with a DN only.
func (s *Source) BindName() (string, error) {
	login := strings.TrimSpace(s.Login)
	switch {
	case login == "":
		return "", Errorf(EINVALID, "the login is empty; give the account roster signs in with, for example svc-print@%s", orExample(s.Domain))
	case looksLikeDN(login):
		return login, nil
	case !s.Type.IsAD():
		return "", Errorf(EINVALID, "%s signs in with a full DN, such as uid=%s,ou=people,%s; %q is not one",
			s.Type.Label(), bareUser(login), DomainDN(orExample(s.Domain), s.Type), login)
	case strings.Contains(login, `\`):
		dom, user, _ := strings.Cut(login, `\`)
		if dom == "" || user == "" {
			return "", Errorf(EINVALID, "the login %q is not of the form DOMAIN\\user", login)
		}
		return login, nil
	case strings.Contains(login, "@"):
		user, dom, _ := strings.Cut(login, "@")
		if user == "" || dom == "" || strings.Contains(dom, "@") {
			return "", Errorf(EINVALID, "the login %q is not of the form user@domain", login)
		}
		return login, nil
	case s.Domain == "":
		return "", Errorf(EINVALID, "the login %q needs a domain: write %s@<domain> or fill in the domain", login, login)
	default:
		return login + "@" + strings.ToLower(s.Domain), nil
	}
}

func looksLikeDN(s string) bool {
	k, _, ok := strings.Cut(s, "=")
	return ok && !strings.ContainsAny(k, `@\ `) && strings.Contains(s, ",")
}

func bareUser(login string) string {
	if _, u, ok := strings.Cut(login, `\`); ok {
		return u
	}
	u, _, _ := strings.Cut(login, "@")
	return u
}

func orExample(domain string) string {
	if domain == "" {
		return "example.com"
	}
	return strings.ToLower(domain)
}
