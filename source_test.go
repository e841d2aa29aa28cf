package roster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func TestSourceEndpoint(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		mode     roster.TLSMode
		wantHost string
		wantPort int
		wantMode roster.TLSMode
		wantErr  string
	}{
		{"an IP address with LDAPS defaults to port 636", "20.54.1.9", roster.LDAPS, "20.54.1.9", 636, roster.LDAPS, ""},
		{"StartTLS defaults to port 389", "dc1.corp.test", roster.StartTLS, "dc1.corp.test", 389, roster.StartTLS, ""},
		{"an explicit port wins", "127.0.0.1:1636", roster.LDAPS, "127.0.0.1", 1636, roster.LDAPS, ""},
		{"an ldaps URL sets the mode", "ldaps://dc1.corp.test", "", "dc1.corp.test", 636, roster.LDAPS, ""},
		{"an ldap URL without a mode means StartTLS, never plain", "ldap://dc1.corp.test:389/", "", "dc1.corp.test", 389, roster.StartTLS, ""},
		{"a bracketed IPv6 address keeps its default port", "[::1]", roster.LDAPS, "::1", 636, roster.LDAPS, ""},
		{"an IPv6 address with a port", "[::1]:1636", roster.LDAPS, "::1", 1636, roster.LDAPS, ""},
		{"an empty address is refused", " ", roster.LDAPS, "", 0, "", "address is empty"},
		{"an ldaps URL contradicting StartTLS is refused", "ldaps://h", roster.StartTLS, "", 0, "", "pick one"},
		{"an ldap URL contradicting LDAPS is refused", "ldap://h", roster.LDAPS, "", 0, "", "ldap:// URL but the SSL mode is LDAPS"},
		{"an http URL is refused", "https://h", roster.LDAPS, "", 0, "", "scheme https"},
		{"a missing mode is refused", "h", "", "", 0, "", "SSL mode is not set"},
		{"an unknown mode is refused", "h", "ssl", "", 0, "", `"ssl" is not one of`},
		{"a port out of range is refused", "h:70000", roster.LDAPS, "", 0, "", "from 1 to 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &roster.Source{Address: tt.addr, TLSMode: tt.mode}
			host, port, err := s.Endpoint()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Endpoint() error = %v, want one containing %q", err, tt.wantErr)
				}
				if roster.ErrorCode(err) != roster.EINVALID {
					t.Fatalf("error code = %q, want %q", roster.ErrorCode(err), roster.EINVALID)
				}
				return
			}
			if err != nil {
				t.Fatalf("Endpoint() error = %v", err)
			}
			if host != tt.wantHost || port != tt.wantPort || s.Mode() != tt.wantMode {
				t.Fatalf("Endpoint() = %s, %d, mode %s; want %s, %d, mode %s", host, port, s.Mode(), tt.wantHost, tt.wantPort, tt.wantMode)
			}
		})
	}
}

func TestSourceBindName(t *testing.T) {
	tests := []struct {
		name    string
		typ     roster.DirectoryType
		domain  string
		login   string
		want    string
		wantErr string
	}{
		{"a UPN is used as typed", roster.EntraDS, "corp.test", "svc-print@corp.test", "svc-print@corp.test", ""},
		{"a down-level name is used as typed", roster.ActiveDirectory, "corp.test", `CORP\svc-print`, `CORP\svc-print`, ""},
		{"a bare user is completed with the domain", roster.EntraDS, "Corp.Test", "svc-print", "svc-print@corp.test", ""},
		{"a DN is used as typed on AD", roster.ActiveDirectory, "corp.test", "CN=svc,OU=AADDC Users,DC=corp,DC=test", "CN=svc,OU=AADDC Users,DC=corp,DC=test", ""},
		{"a DN is used as typed on OpenLDAP", roster.OpenLDAP, "example.test", "uid=svc,ou=system,dc=example,dc=test", "uid=svc,ou=system,dc=example,dc=test", ""},
		{"OpenLDAP refuses a UPN and shows the DN form", roster.OpenLDAP, "example.test", "svc@example.test", "", "uid=svc,ou=people,dc=example,dc=test"},
		{"a bare user without a domain is refused", roster.ActiveDirectory, "", "svc", "", "needs a domain"},
		{"an empty login is refused", roster.ActiveDirectory, "corp.test", "", "", "login is empty"},
		{"a half down-level name is refused", roster.ActiveDirectory, "corp.test", `CORP\`, "", `DOMAIN\user`},
		{"a double @ is refused", roster.ActiveDirectory, "corp.test", "a@b@c", "", "user@domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &roster.Source{Type: tt.typ, Domain: tt.domain, Login: tt.login}
			got, err := s.BindName()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("BindName() = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BindName() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSourceSearchBasesAndServerName(t *testing.T) {
	tests := []struct {
		name       string
		src        roster.Source
		wantBases  []string
		wantServer string
	}{
		{"Entra DS searches AADDC Users and names ldaps.<domain> for an IP",
			roster.Source{Type: roster.EntraDS, Domain: "aaddscontoso.com", Address: "20.54.1.9", TLSMode: roster.LDAPS},
			[]string{"OU=AADDC Users,DC=aaddscontoso,DC=com"}, "ldaps.aaddscontoso.com"},
		{"AD searches the domain root and keeps a host name",
			roster.Source{Type: roster.ActiveDirectory, Domain: "corp.test", Address: "dc1.corp.test", TLSMode: roster.LDAPS},
			[]string{"DC=corp,DC=test"}, "dc1.corp.test"},
		{"OpenLDAP writes dc in lower case",
			roster.Source{Type: roster.OpenLDAP, Domain: "example.test", Address: "ldap.example.test", TLSMode: roster.StartTLS},
			[]string{"dc=example,dc=test"}, "ldap.example.test"},
		{"explicit base DNs and server name win",
			roster.Source{Type: roster.EntraDS, Domain: "corp.test", Address: "10.0.0.4", TLSMode: roster.LDAPS,
				BaseDNs: []string{"OU=Staff,DC=corp,DC=test"}, Trust: roster.Trust{ServerName: "dc7.corp.test"}},
			[]string{"OU=Staff,DC=corp,DC=test"}, "dc7.corp.test"},
		{"an IP without a domain stays the IP",
			roster.Source{Type: roster.OpenLDAP, Address: "127.0.0.1:1636", TLSMode: roster.LDAPS, BaseDNs: []string{"dc=x"}},
			[]string{"dc=x"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.src.SearchBases(); strings.Join(got, "|") != strings.Join(tt.wantBases, "|") {
				t.Errorf("SearchBases() = %q, want %q", got, tt.wantBases)
			}
			if got := tt.src.ServerName(); got != tt.wantServer {
				t.Errorf("ServerName() = %q, want %q", got, tt.wantServer)
			}
		})
	}
}

func TestSourceValidate(t *testing.T) {
	good := func() roster.Source {
		return roster.Source{Type: roster.EntraDS, Address: "20.54.1.9", TLSMode: roster.LDAPS,
			Domain: "corp.test", Login: "svc-print", Password: "pw"}
	}
	tests := []struct {
		name    string
		change  func(*roster.Source)
		wantErr string
	}{
		{"the article's form is valid", func(*roster.Source) {}, ""},
		{"an unknown type is refused", func(s *roster.Source) { s.Type = "novell" }, "directory type"},
		{"plain LDAP without allow-insecure is refused", func(s *roster.Source) { s.TLSMode = roster.Plain }, "allow-insecure"},
		{"plain LDAP with allow-insecure passes", func(s *roster.Source) { s.TLSMode = roster.Plain; s.AllowInsecure = true }, ""},
		{"AD without a domain is refused", func(s *roster.Source) { s.Domain = ""; s.Login = "a@b.c" }, "domain is required"},
		{"a domain with a space is refused", func(s *roster.Source) { s.Domain = "corp test" }, "not a DNS name"},
		{"an empty password is refused, as it would bind anonymously", func(s *roster.Source) { s.Password = "" }, "anonymous bind"},
		{"a short pin is refused", func(s *roster.Source) { s.Trust.PinSHA256 = "ab:cd" }, "64 hex digits"},
		{"a pin with colons passes", func(s *roster.Source) { s.Trust.PinSHA256 = strings.Repeat("AB:", 31) + "AB" }, ""},
		{"an incremental interval of seconds is refused", func(s *roster.Source) { s.IncrementalInterval = 10 * time.Second }, "too short"},
		{"an incremental interval of 5 minutes passes", func(s *roster.Source) { s.IncrementalInterval = 5 * time.Minute }, ""},
		{"a negative timeout is refused", func(s *roster.Source) { s.RequestTimeout = -1 }, "negative"},
		{"the print code kept in clear as an extra is refused", func(s *roster.Source) { s.Mapping.Extra = []string{"EmployeeNumber"} }, "kept in clear"},
		{"a source name with a newline is refused", func(s *roster.Source) { s.Name = "corp\nfake" }, "source name holds a control character"},
		{"a source name with accents passes", func(s *roster.Source) { s.Name = "Zürich" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.change(&s)
			err := s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || roster.ErrorCode(err) != roster.EINVALID {
				t.Fatalf("Validate() = %v (code %q), want EINVALID containing %q", err, roster.ErrorCode(err), tt.wantErr)
			}
		})
	}
}

func TestSourceWarningsNameEveryWeakening(t *testing.T) {
	s := roster.Source{Address: "h", TLSMode: roster.LDAPS}
	if w := s.Warnings(); len(w) != 0 {
		t.Fatalf("a verified LDAPS source has warnings: %q", w)
	}
	s.Trust.SkipVerify = true
	s.TLSMode, s.AllowInsecure = roster.Plain, true
	w := strings.Join(s.Warnings(), "\n")
	for _, want := range []string{"TLS is off", "verification is off"} {
		if !strings.Contains(w, want) {
			t.Errorf("Warnings() = %q, missing %q", w, want)
		}
	}
}

func TestWriteBackValidate(t *testing.T) {
	src := func(w roster.WriteBack) *roster.Source {
		return &roster.Source{Name: "corp", Type: roster.ActiveDirectory, Address: "10.0.0.4", TLSMode: roster.LDAPS, Domain: "corp.test",
			Login: "svc-print", Password: "pw", WriteBack: w}
	}
	if err := src(roster.WriteBack{PrintCode: "employeeNumber", Card: "pager"}).Validate(); err != nil {
		t.Fatalf("the mapping's own attributes: %v", err)
	}
	for _, tt := range []struct {
		w    roster.WriteBack
		want string
	}{
		{roster.WriteBack{PrintCode: "pager"}, "read from \"employeeNumber\""},
		{roster.WriteBack{Card: "otherPager"}, "read from \"pager\""},
		{roster.WriteBack{PrintCode: "employee Number"}, "not an LDAP attribute name"},
	} {
		if err := src(tt.w).Validate(); roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.w, err, tt.want)
		}
	}
}

func TestCardWriteBackRefusesATransform(t *testing.T) {
	src := &roster.Source{Name: "corp", Type: roster.ActiveDirectory, Address: "10.0.0.4", TLSMode: roster.LDAPS, Domain: "corp.test",
		Login: "svc-print", Password: "pw", WriteBack: roster.WriteBack{Card: "pager"},
		Mapping: roster.Mapping{CardTransforms: roster.CardPipeline{{Op: roster.CardStripZeros}}}}
	if err := src.Validate(); roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), "transform") {
		t.Fatalf("card write-back with a transform = %v", err)
	}
}
