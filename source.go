package roster

import (
	"encoding/hex"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DirectoryType is the kind of directory a source reads. It picks the
// attribute preset, the identity anchor and the dialect (paging limits,
// range retrieval, disabled flag).
type DirectoryType string

const (
	ActiveDirectory DirectoryType = "ad"
	EntraDS         DirectoryType = "entra-ds" // Microsoft Entra Domain Services, formerly Azure AD DS
	OpenLDAP        DirectoryType = "openldap"
	GenericLDAP     DirectoryType = "ldap"
)

// IsAD reports whether the directory speaks AD's dialect.
func (t DirectoryType) IsAD() bool { return t == ActiveDirectory || t == EntraDS }

func (t DirectoryType) valid() bool {
	switch t {
	case ActiveDirectory, EntraDS, OpenLDAP, GenericLDAP:
		return true
	}
	return false
}

// TLSMode is how the connection is protected.
type TLSMode string

const (
	LDAPS    TLSMode = "ldaps"    // TLS from the first byte, port 636
	StartTLS TLSMode = "starttls" // plain connect on 389, then upgrade before the bind
	Plain    TLSMode = "none"     // no TLS at all; only with AllowInsecure
)

// Default ports and timeouts.
const (
	MinIncrementalInterval = time.Minute // a shorter one only loads the directory
	LDAPSPort              = 636
	LDAPPort               = 389
	DefaultConnectTimeout  = 10 * time.Second
	DefaultRequestTimeout  = 2 * time.Minute
	DefaultRunTimeout      = 4 * time.Hour
)

// Trust says how the directory's certificate is checked. With nothing set,
// the system roots verify the chain and the name. CAPEM replaces the
// system roots with the given CAs (or a self-signed .cer): a directory
// with its own CA should not also accept every public CA. PinSHA256
// accepts exactly the leaf certificate with that SHA-256 fingerprint
// instead of a chain.
// SkipVerify turns every check off; it exists for diagnosis and is
// reported as a warning wherever the source is shown.
type Trust struct {
	CAPEM      []byte
	PinSHA256  string // hex, colons and case ignored
	ServerName string // the name the certificate must carry; see Source.ServerName
	SkipVerify bool
}

// Source is one directory that roster reads. Its first fields are the
// founding article's form: type, address, SSL mode, domain, login and
// password. The rest is the "advanced" part.
type Source struct {
	ID   int64
	Name string
	Type DirectoryType

	// Address is a host name or an IP address, with an optional port.
	// An ldap:// or ldaps:// URL is accepted too, as admins paste them.
	Address       string
	TLSMode       TLSMode
	AllowInsecure bool // required for TLSMode Plain

	// Domain is the DNS domain (corp.test). It gives the default base DN,
	// completes bare logins, and names the TLS server when Address is an IP.
	Domain  string
	BaseDNs []string // when empty, derived from Domain

	// Login is the bind account in any form an admin types: a UPN
	// (user@domain), DOMAIN\user, a bare user, or a full DN.
	Login    string
	Password Secret

	Trust          Trust
	ConnectTimeout time.Duration // dial, TLS handshake and bind; 0 means the default
	RequestTimeout time.Duration // each search request or page; 0 means the default
	RunTimeout     time.Duration // a whole sync run; 0 means the default

	UserFilter string   // extra LDAP filter ANDed with the type's user filter
	GroupScope []string // group DNs; when set, only their (nested) members are synced

	// CertificateNotAfter is when the directory's certificate expires, as
	// last seen by a test or a sync; zero when never seen. It is state,
	// not a setting: stores keep it apart from the settings.
	CertificateNotAfter time.Time

	// FullSchedule is when roster serve runs a full sync by itself, in
	// cron syntax ("0 2 * * *": 02:00 every night); empty: on demand only.
	FullSchedule string
	// IncrementalInterval is how often roster serve reads what changed
	// since the last successful run; 0: never, else at least a minute.
	IncrementalInterval time.Duration

	Mapping Mapping // empty fields take the directory type's preset
	// WriteBack names the directory attributes roster writes its own
	// print codes and hand-added primary cards to ("reverse
	// synchronization"); empty: roster writes nothing to the directory.
	WriteBack     WriteBack
	DisabledUsers DisabledUsers // what to do with accounts disabled in the directory
	Removal       RemovalPolicy // what to do with users who leave the directory
}

// WriteBack is where roster writes back to the directory. Each attribute
// must be the one the mapping reads the same field from, so that the next
// sync reads back what roster wrote instead of undoing it.
type WriteBack struct {
	PrintCode string `json:"print_code,omitempty"`
	Card      string `json:"card,omitempty"` // the primary card
}

// IsZero reports whether write-back is off.
func (w WriteBack) IsZero() bool { return w.PrintCode == "" && w.Card == "" }

// validate checks the attribute names against the mapping m.
func (w WriteBack) validate(m Mapping) error {
	for _, a := range []struct{ field, attr, reads string }{
		{"print code", w.PrintCode, m.PrintCode},
		{"card", w.Card, firstOf(m.Cards)},
	} {
		if a.attr == "" {
			continue
		}
		if !attrName.MatchString(a.attr) {
			return Errorf(EINVALID, "the write-back attribute %q for the %s is not an LDAP attribute name", a.attr, a.field)
		}
		if !strings.EqualFold(a.attr, a.reads) {
			return Errorf(EINVALID, "the %s is written back to %s but read from %q: write it to the attribute the mapping reads, or the next sync undoes the write", a.field, a.attr, a.reads)
		}
	}
	if w.Card != "" && len(m.CardTransforms) > 0 {
		return Errorf(EINVALID, "cards are not written back to a source with a card transform: the next sync would transform the written number again; remove the transform or the card write-back")
	}
	return nil
}

var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// DisabledUsers says what a sync does with an account that is disabled
// (or expired) in the directory.
type DisabledUsers string

const (
	KeepDisabled DisabledUsers = "keep" // default: sync it as a disabled user
	SkipDisabled DisabledUsers = "skip" // do not create it; an existing user is disabled
)

// RemovalPolicy says what happens to a user of this source that the
// directory no longer returns. Users that roster did not create from this
// source are never touched.
type RemovalPolicy struct {
	// Delete removes the user once it has been missing for Grace; until
	// then, and always when Delete is false (the default), it is disabled.
	Delete bool
	Grace  time.Duration
	// A run whose removals exceed both ThresholdPercent of the source's
	// users and ThresholdCount users holds them for approval. Zero values
	// mean 5% and 10.
	ThresholdPercent float64
	ThresholdCount   int
}

// Threshold returns the percent and count in effect.
func (p RemovalPolicy) Threshold() (percent float64, count int) {
	percent, count = p.ThresholdPercent, p.ThresholdCount
	if percent <= 0 {
		percent = 5
	}
	if count <= 0 {
		count = 10
	}
	return percent, count
}

// Trips reports whether removing n of total users needs approval.
func (p RemovalPolicy) Trips(n, total int) bool {
	percent, count := p.Threshold()
	return n > count && float64(n) > percent/100*float64(total)
}

// Validate checks the source for mistakes that no connection attempt is
// needed to find. It returns an *Error with code EINVALID whose message
// names the field and the fix.
func (s *Source) Validate() error {
	if err := s.ValidateSettings(); err != nil {
		return err
	}
	return s.ValidatePassword()
}

// ValidateSettings is Validate without the password, for a source saved
// while its password is dropped (see TrustChanges): it cannot sync until
// the password is entered again.
func (s *Source) ValidateSettings() error {
	if err := CheckText("source name", s.Name); err != nil {
		return err
	}
	if !s.Type.valid() {
		return Errorf(EINVALID, "directory type %q is not one of ad, entra-ds, openldap, ldap", s.Type)
	}
	if _, _, err := s.Endpoint(); err != nil {
		return err
	}
	if s.TLSMode == Plain && !s.AllowInsecure {
		return Errorf(EINVALID, "plain LDAP sends the password in clear; use LDAPS or StartTLS, or set allow-insecure to accept the risk")
	}
	if s.Type.IsAD() && s.Domain == "" {
		return Errorf(EINVALID, "the domain is required for %s (for example corp.test); it gives the base DN and completes the login", s.Type.Label())
	}
	if s.Domain != "" && !ValidDomain(s.Domain) {
		return Errorf(EINVALID, "domain %q is not a DNS name such as corp.test", s.Domain)
	}
	if len(s.BaseDNs) == 0 && s.Domain == "" {
		return Errorf(EINVALID, "give a domain or a base DN, so roster knows where to search")
	}
	if _, err := s.BindName(); err != nil {
		return err
	}
	if s.Trust.PinSHA256 != "" {
		if _, err := s.Pin(); err != nil {
			return err
		}
	}
	if err := s.Mapping.CardTransforms.Validate(); err != nil {
		return err
	}
	if err := s.WriteBack.validate(s.Mapping.WithDefaults(s.Type)); err != nil {
		return err
	}
	if pc := s.Mapping.WithDefaults(s.Type).PrintCode; pc != "" {
		for _, x := range s.Mapping.Extra {
			if strings.EqualFold(x, pc) {
				return Errorf(EINVALID, "the print code attribute %s is also listed in the extra attributes, which are kept in clear; remove it from extra", x)
			}
		}
	}
	if s.FullSchedule != "" {
		if _, err := ParseCron(s.FullSchedule); err != nil {
			return err
		}
	}
	if s.IncrementalInterval < 0 || (s.IncrementalInterval > 0 && s.IncrementalInterval < MinIncrementalInterval) {
		return Errorf(EINVALID, "the incremental interval %s is too short: use at least %s, or 0 for none", s.IncrementalInterval, MinIncrementalInterval)
	}
	if s.ConnectTimeout < 0 || s.RequestTimeout < 0 || s.RunTimeout < 0 {
		return Errorf(EINVALID, "timeouts cannot be negative")
	}
	return nil
}

// ValidatePassword refuses an empty password: it turns a simple bind into
// an anonymous one, which many servers accept as a "success".
func (s *Source) ValidatePassword() error {
	if !s.Password.IsSet() {
		return Errorf(EINVALID, "the password of %s is empty; an empty password would make an anonymous bind", s.Login)
	}
	return nil
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
	}
	return "LDAP"
}

// Endpoint returns the host and port to connect to. The port defaults
// to 636 for LDAPS and 389 otherwise. A URL in Address must agree with
// TLSMode: ldaps:// goes with LDAPS; ldap:// with StartTLS or Plain.
func (s *Source) Endpoint() (host string, port int, err error) {
	host, port, _, err = s.endpoint()
	return host, port, err
}

// Mode returns the TLS mode in effect: an ldaps:// URL in Address means
// LDAPS, an ldap:// URL with no mode set means StartTLS, never plain.
func (s *Source) Mode() TLSMode {
	_, _, mode, err := s.endpoint()
	if err != nil {
		return s.TLSMode
	}
	return mode
}

func (s *Source) endpoint() (host string, port int, mode TLSMode, err error) {
	fail := func(e *Error) (string, int, TLSMode, error) { return "", 0, "", e }
	addr := strings.TrimSpace(s.Address)
	if addr == "" {
		return fail(Errorf(EINVALID, "the address is empty; give the directory's IP address or host name"))
	}
	mode = s.TLSMode
	if scheme, rest, ok := strings.Cut(addr, "://"); ok {
		switch strings.ToLower(scheme) {
		case "ldaps":
			if mode != LDAPS && mode != "" {
				return fail(Errorf(EINVALID, "the address %s is an ldaps:// URL but the SSL mode is %s; pick one", addr, mode))
			}
			mode = LDAPS
		case "ldap":
			if mode == LDAPS {
				return fail(Errorf(EINVALID, "the address %s is an ldap:// URL but the SSL mode is LDAPS; use ldaps:// or StartTLS", addr))
			}
			if mode == "" {
				mode = StartTLS
			}
		default:
			return fail(Errorf(EINVALID, "the address %s has scheme %s; use a host name, an IP address, or an ldap:// or ldaps:// URL", addr, scheme))
		}
		addr = strings.TrimSuffix(rest, "/")
	}
	switch mode {
	case LDAPS, StartTLS, Plain:
	case "":
		return fail(Errorf(EINVALID, "the SSL mode is not set; use LDAPS (port 636) or StartTLS (port 389)"))
	default:
		return fail(Errorf(EINVALID, "SSL mode %q is not one of ldaps, starttls, none", mode))
	}
	port = LDAPPort
	if mode == LDAPS {
		port = LDAPSPort
	}
	host = addr
	if h, p, err := net.SplitHostPort(addr); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail(Errorf(EINVALID, "the port in %s is not a number from 1 to 65535", s.Address))
		}
		host, port = h, n
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1] // a bracketed IPv6 address without a port
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return fail(Errorf(EINVALID, "%q is not a host name or IP address", s.Address))
	}
	return host, port, mode, nil
}

// URL returns the ldap:// or ldaps:// URL of the endpoint.
func (s *Source) URL() (string, error) {
	host, port, err := s.Endpoint()
	if err != nil {
		return "", err
	}
	scheme := "ldap"
	if s.Mode() == LDAPS {
		scheme = "ldaps"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// ServerName returns the name the server's certificate must carry. An
// explicit Trust.ServerName wins. When Address is an IP address, as in the
// founding article's setup with Entra DS's external IP, the name defaults
// to ldaps.<domain>: a wildcard *.<domain> certificate then verifies fully.
// Otherwise it is the host name itself.
func (s *Source) ServerName() string {
	if s.Trust.ServerName != "" {
		return s.Trust.ServerName
	}
	host, _, err := s.Endpoint()
	if err != nil {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil && s.Domain != "" {
		return "ldaps." + strings.ToLower(s.Domain)
	}
	return host
}

// Pin returns the pinned SHA-256 fingerprint as 32 bytes, or nil when
// none is set. Colons, spaces and case are ignored, so the forms that
// browsers, openssl and roster print are all accepted.
func (s *Source) Pin() ([]byte, error) {
	if s.Trust.PinSHA256 == "" {
		return nil, nil
	}
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(s.Trust.PinSHA256)
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != 32 {
		return nil, Errorf(EINVALID, "the pinned fingerprint must be a SHA-256 digest: 64 hex digits, colons allowed")
	}
	return b, nil
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

// Warnings lists the settings that weaken security. Every place that shows
// a source (CLI, console, API, logs) shows these with it.
func (s *Source) Warnings() []string {
	var w []string
	if s.Mode() == Plain {
		w = append(w, "TLS is off: the password and all data cross the network in clear (allow-insecure is set)")
	}
	if s.Trust.SkipVerify {
		w = append(w, "certificate verification is off: anyone between roster and the directory can read the password; trust the CA or pin the fingerprint instead")
	}
	return w
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

// ValidDomain reports whether d is a DNS name with at least two labels,
// such as corp.test.
func ValidDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// WriteField is what roster writes back to a directory.
type WriteField string

const (
	WritePrintCode WriteField = "print_code"
	WriteCard      WriteField = "card"
)

// Attribute is where the source writes field back, "" when nowhere.
func (w WriteBack) Attribute(f WriteField) string {
	switch f {
	case WritePrintCode:
		return w.PrintCode
	case WriteCard:
		return w.Card
	}
	return ""
}

// WriteTest is the outcome of a test write: whether the source's account
// may write each write-back attribute, tried on one of its users without
// changing anything.
type WriteTest struct {
	User   string       `json:"user"` // the entry tried on
	Checks []WriteCheck `json:"checks"`
}

// WriteCheck is one attribute's test.
type WriteCheck struct {
	Field     WriteField `json:"field"`
	Attribute string     `json:"attribute"`
	OK        bool       `json:"ok"`
	Error     string     `json:"error,omitempty"`
}
