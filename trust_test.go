package roster_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

const (
	caA = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	caB = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
	pin = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func storedSource() *roster.Source {
	return &roster.Source{ID: 1, Name: "corp", Type: roster.EntraDS, Address: "20.54.1.9", TLSMode: roster.LDAPS,
		Domain: "corp.test", Login: "svc-print", Password: "Bind-1", UserFilter: "(department=*)",
		Trust: roster.Trust{CAPEM: []byte(caA), PinSHA256: pin}}
}

func TestTrustChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *roster.Source)
		want   []string
	}{
		{"nothing changed is no change", func(s *roster.Source) {}, nil},
		{"settings beside the endpoint are no change", func(s *roster.Source) {
			s.UserFilter, s.FullSchedule, s.BaseDNs, s.Password = "", "0 2 * * *", []string{"OU=x,DC=corp,DC=test"}, ""
		}, nil},
		{"another host is a change", func(s *roster.Source) { s.Address = "203.0.113.9" }, []string{"address"}},
		{"another port is a change", func(s *roster.Source) { s.Address = "20.54.1.9:1636" }, []string{"address"}},
		{"the same endpoint spelt as a URL is no change", func(s *roster.Source) { s.Address = "ldaps://20.54.1.9:636/" }, nil},
		{"StartTLS instead of LDAPS is a change", func(s *roster.Source) { s.TLSMode, s.Address = roster.StartTLS, "20.54.1.9:636" }, []string{"tls"}},
		{"allowing plain LDAP is a change", func(s *roster.Source) { s.AllowInsecure = true }, []string{"allow_insecure"}},
		{"another server name is a change", func(s *roster.Source) { s.Trust.ServerName = "evil.test" }, []string{"server_name"}},
		{"the default server name written out is no change", func(s *roster.Source) { s.Trust.ServerName = "LDAPS.corp.test" }, nil},
		{"another CA is a change", func(s *roster.Source) { s.Trust.CAPEM = []byte(caB) }, []string{"ca_pem"}},
		{"a CA added to the stored one is a change", func(s *roster.Source) { s.Trust.CAPEM = []byte(caA + caB) }, []string{"ca_pem"}},
		{"no CA (the system roots) is a change", func(s *roster.Source) { s.Trust.CAPEM = nil }, []string{"ca_pem"}},
		{"the same CA with CRLF line ends is no change", func(s *roster.Source) {
			s.Trust.CAPEM = []byte(strings.ReplaceAll(caA, "\n", "\r\n") + "\r\n")
		}, nil},
		{"another pin is a change", func(s *roster.Source) { s.Trust.PinSHA256 = strings.Repeat("ab", 32) }, []string{"pin_sha256"}},
		{"no pin is a change", func(s *roster.Source) { s.Trust.PinSHA256 = "" }, []string{"pin_sha256"}},
		{"the same pin in upper case with colons is no change", func(s *roster.Source) {
			var parts []string
			for i := 0; i < len(pin); i += 2 {
				parts = append(parts, strings.ToUpper(pin[i:i+2]))
			}
			s.Trust.PinSHA256 = strings.Join(parts, ":")
		}, nil},
		{"turning verification off is a change", func(s *roster.Source) { s.Trust.SkipVerify = true }, []string{"insecure_skip_verify"}},
		{"another login is a change", func(s *roster.Source) { s.Login = "administrator" }, []string{"login"}},
		{"another domain is a change, and moves the default server name", func(s *roster.Source) { s.Domain = "evil.test" },
			[]string{"server_name", "domain"}},
		{"another Graph token host is a change: the client secret must not follow it", func(s *roster.Source) {
			s.Graph.AuthorityHost, s.Graph.GraphHost = "https://login.evil.test", "https://graph.evil.test"
		}, []string{"graph.authority_host", "graph.graph_host"}},
		{"another tenant or client is a change", func(s *roster.Source) { s.Graph.TenantID, s.Graph.ClientID = "other-tenant", "other-client" },
			[]string{"graph.tenant_id", "graph.client_id"}},
		{"another cloud is a change", func(s *roster.Source) { s.Graph.Cloud = "china" }, []string{"graph.cloud"}},
		{"another directory type is a change", func(s *roster.Source) { s.Type = roster.EntraID }, []string{"type"}},
		{"several changes are all named", func(s *roster.Source) { s.Address, s.Trust.CAPEM = "dc.evil.test", []byte(caB) },
			[]string{"address", "server_name", "ca_pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := storedSource()
			tt.change(changed)
			if got := roster.TrustChanges(storedSource(), changed); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("TrustChanges = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("turning verification back on is a change too", func(t *testing.T) {
		old, changed := storedSource(), storedSource()
		old.Trust.SkipVerify = true
		if got := roster.TrustChanges(old, changed); !reflect.DeepEqual(got, []string{"insecure_skip_verify"}) {
			t.Fatalf("TrustChanges = %q", got)
		}
	})
}
