package roster

import (
	"strings"
	"time"
)

// SourceSettings is a source as it is written down: in roster's
// configuration file, in the API's requests and answers, and in the user
// base's settings column. One format and one normaliser (Source) serve
// all three, so that a setting cannot mean one thing in a file and
// another in the console. Its JSON names are part of roster's interface:
// they change only with a migration of the stored rows.
//
// The password is here only to be read: roster never writes it out
// (SettingsOf leaves it empty, and a set Secret marshals as a mask).
type SourceSettings struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Address       string   `json:"address"`
	TLS           string   `json:"tls,omitempty"` // ldaps (the default), starttls or none
	AllowInsecure bool     `json:"allow_insecure,omitempty"`
	Domain        string   `json:"domain"`
	BaseDNs       []string `json:"base_dns,omitempty"`
	Login         string   `json:"login"`
	Password      Secret   `json:"password,omitempty"`
	// Graph is an entra-id source's app registration; its client secret,
	// if any, is the password.
	Graph GraphApp `json:"graph,omitzero"`

	CAPEM              string `json:"ca_pem,omitempty"`
	PinSHA256          string `json:"pin_sha256,omitempty"`
	ServerName         string `json:"server_name,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`

	ConnectTimeout Duration `json:"connect_timeout,omitzero"`
	Timeout        Duration `json:"timeout,omitzero"` // each search request or page
	RunTimeout     Duration `json:"run_timeout,omitzero"`

	UserFilter string   `json:"user_filter,omitempty"`
	GroupScope []string `json:"group_scope,omitempty"`

	FullSchedule        string   `json:"full_schedule,omitempty"`
	IncrementalInterval Duration `json:"incremental_interval,omitzero"`

	Mapping       Mapping         `json:"mapping,omitzero"`
	WriteBack     WriteBack       `json:"write_back,omitzero"`
	DisabledUsers string          `json:"disabled_users,omitempty"` // keep (the default) or skip
	Removal       RemovalSettings `json:"removal,omitzero"`
}

// RemovalSettings is RemovalPolicy as it is written.
type RemovalSettings struct {
	Action           string   `json:"action,omitempty"` // disable (the default) or delete
	Grace            Duration `json:"grace,omitzero"`   // with delete
	ThresholdPercent float64  `json:"threshold_percent,omitempty"`
	ThresholdCount   int      `json:"threshold_count,omitempty"`
}

// Duration is a time.Duration written as Go writes one: "90s", "5m",
// "720h".
type Duration time.Duration

// MarshalText writes d as "1h30m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "90s", "5m" or "720h"; "" is zero, as forms send
// an empty field.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return Errorf(EINVALID, "%q is not a duration such as 5m, 90s or 720h", b)
	}
	*d = Duration(v)
	return nil
}

// Source turns the settings into a Source: names lower-cased where case
// does not matter, defaults filled in (LDAPS for an address that is not
// a URL, keep disabled accounts, disable leavers), and the removal action
// read. It does not validate
// the result (Source.Validate does), so that a stored source written
// under older rules still opens, to be corrected.
//
// Errors: EINVALID when disabled_users or the removal action is not one
// of its values.
func (s *SourceSettings) Source() (*Source, error) {
	src := &Source{
		Name: s.Name, Type: DirectoryType(strings.ToLower(s.Type)), Address: s.Address,
		TLSMode: TLSMode(strings.ToLower(s.TLS)), AllowInsecure: s.AllowInsecure,
		Domain: s.Domain, BaseDNs: s.BaseDNs, Login: s.Login, Password: s.Password, Graph: s.Graph,
		Trust:          Trust{PinSHA256: s.PinSHA256, ServerName: s.ServerName, SkipVerify: s.InsecureSkipVerify},
		ConnectTimeout: time.Duration(s.ConnectTimeout), RequestTimeout: time.Duration(s.Timeout), RunTimeout: time.Duration(s.RunTimeout),
		UserFilter: s.UserFilter, GroupScope: s.GroupScope,
		FullSchedule: s.FullSchedule, IncrementalInterval: time.Duration(s.IncrementalInterval),
		Mapping: s.Mapping, WriteBack: s.WriteBack, DisabledUsers: DisabledUsers(strings.ToLower(s.DisabledUsers)),
		Removal: RemovalPolicy{ThresholdPercent: s.Removal.ThresholdPercent, ThresholdCount: s.Removal.ThresholdCount},
	}
	if s.CAPEM != "" {
		src.Trust.CAPEM = []byte(s.CAPEM)
	}
	// LDAPS unless said otherwise; an ldap:// or ldaps:// URL in the
	// address says it itself (an ldap:// URL means StartTLS), as the
	// API has always read it.
	if src.TLSMode == "" && !strings.Contains(s.Address, "://") && src.Type != EntraID {
		src.TLSMode = LDAPS
	}
	switch src.DisabledUsers {
	case "":
		src.DisabledUsers = KeepDisabled
	case KeepDisabled, SkipDisabled:
	default:
		return nil, Errorf(EINVALID, "disabled_users %q is not keep or skip", s.DisabledUsers)
	}
	switch strings.ToLower(s.Removal.Action) {
	case "", "disable": // a grace period means nothing here: leavers are disabled at once
	case "delete":
		src.Removal.Delete, src.Removal.Grace = true, time.Duration(s.Removal.Grace)
	default:
		return nil, Errorf(EINVALID, "the removal action %q is not disable or delete", s.Removal.Action)
	}
	return src, nil
}

// SettingsOf writes src down as settings, the inverse of Source. The
// password is left out: stores seal it apart, and the API never sends it
// back. The ID and the certificate's expiry are state, not settings.
func SettingsOf(src *Source) SourceSettings {
	s := SourceSettings{
		Name: src.Name, Type: string(src.Type), Address: src.Address, TLS: string(src.TLSMode), AllowInsecure: src.AllowInsecure,
		Domain: src.Domain, BaseDNs: src.BaseDNs, Login: src.Login, Graph: src.Graph,
		CAPEM: string(src.Trust.CAPEM), PinSHA256: src.Trust.PinSHA256, ServerName: src.Trust.ServerName, InsecureSkipVerify: src.Trust.SkipVerify,
		ConnectTimeout: Duration(src.ConnectTimeout), Timeout: Duration(src.RequestTimeout), RunTimeout: Duration(src.RunTimeout),
		UserFilter: src.UserFilter, GroupScope: src.GroupScope,
		FullSchedule: src.FullSchedule, IncrementalInterval: Duration(src.IncrementalInterval),
		Mapping: src.Mapping, WriteBack: src.WriteBack, DisabledUsers: string(src.DisabledUsers),
		Removal: RemovalSettings{Action: "disable", ThresholdPercent: src.Removal.ThresholdPercent, ThresholdCount: src.Removal.ThresholdCount},
	}
	if src.Removal.Delete {
		s.Removal.Action, s.Removal.Grace = "delete", Duration(src.Removal.Grace)
	}
	return s
}
