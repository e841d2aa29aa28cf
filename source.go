package roster

import (
	"strings"
	"time"
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
	Password Secret // for EntraID, the app's client secret, when it has no certificate

	// Graph is the app registration of an EntraID source; the LDAP
	// settings above (address, TLS, domain, login) do not apply to one.
	Graph GraphApp

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
		return Errorf(EINVALID, "directory type %q is not one of ad, entra-ds, openldap, ldap, entra-id", s.Type)
	}
	if s.Type == EntraID {
		if err := s.Graph.validate(); err != nil {
			return err
		}
		if err := s.WriteBack.validateGraph(s.Mapping.WithDefaults(EntraID)); err != nil {
			return err
		}
		if s.UserFilter != "" || len(s.GroupScope) > 0 {
			return Errorf(EINVALID, "a user filter and a group scope are LDAP settings: an entra-id source reads every user of the tenant")
		}
		return s.validateCommon()
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
	if err := s.WriteBack.validate(s.Mapping.WithDefaults(s.Type)); err != nil {
		return err
	}
	return s.validateCommon()
}

// validateCommon checks the settings every directory type has: the
// mapping, the schedule and the timeouts.
func (s *Source) validateCommon() error {
	if err := s.Mapping.CardTransforms.Validate(); err != nil {
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
	if s.Type == EntraID {
		if s.Graph.CertFile == "" && !s.Password.IsSet() {
			return Errorf(EINVALID, "give the app's certificate and key (roster cert new -for graph), or its client secret")
		}
		return nil
	}
	if !s.Password.IsSet() {
		return Errorf(EINVALID, "the password of %s is empty; an empty password would make an anonymous bind", s.Login)
	}
	return nil
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
