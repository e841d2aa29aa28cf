package roster

import (
	"strings"
	"testing"
)

// An entra-id source is checked on its app registration, not on LDAP
// settings it does not have; each mistake names what to give.
func TestEntraIDSourceValidation(t *testing.T) {
	good := func() *Source {
		return &Source{Name: "tenant", Type: EntraID, Graph: GraphApp{
			TenantID: "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55", ClientID: "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77",
			CertFile: "/etc/roster/graph.pem", KeyFile: "/etc/roster/graph.key"}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("a certificate source: %v", err)
	}
	bySecret := good()
	bySecret.Graph.CertFile, bySecret.Graph.KeyFile, bySecret.Password = "", "", "the-secret-value"
	if err := bySecret.Validate(); err != nil {
		t.Fatalf("a secret source: %v", err)
	}
	writes := good()
	writes.Mapping.PrintCode = "onPremisesExtensionAttributes/extensionAttribute6"
	writes.WriteBack.PrintCode = writes.Mapping.PrintCode
	if err := writes.Validate(); err != nil {
		t.Fatalf("print codes written back to an extension attribute: %v", err)
	}
	for _, tt := range []struct {
		change func(*Source)
		want   string
	}{
		{func(s *Source) { s.Graph.TenantID = "" }, "tenant ID"},
		{func(s *Source) { s.Graph.TenantID = "common" }, "not one tenant"},
		{func(s *Source) { s.Graph.ClientID = "Print sync" }, "not a GUID"},
		{func(s *Source) { s.Graph.KeyFile = "" }, "both the app's certificate file and its key file"},
		{func(s *Source) { s.Graph.CertFile, s.Graph.KeyFile = "", "" }, "client secret"},
		{func(s *Source) { s.Graph.Cloud = "mars" }, "not one of global"},
		{func(s *Source) {
			s.Graph.AuthorityHost, s.Graph.GraphHost = "http://127.0.0.1:1", "https://127.0.0.1:1"
		}, "https:// URL"},
		{func(s *Source) { s.Graph.AuthorityHost = "https://127.0.0.1:1" }, "both the authority host"},
		{func(s *Source) { s.WriteBack.PrintCode = "employeeId" }, "read from"},
		{func(s *Source) { s.Mapping.PrintCode, s.WriteBack.PrintCode = "mail", "mail" }, "cannot be written to"},
		{func(s *Source) { s.WriteBack.Card = "employeeId" }, "cards are not written back"},
		{func(s *Source) { s.UserFilter = "(department=*)" }, "LDAP settings"},
	} {
		s := good()
		tt.change(s)
		err := s.Validate()
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.want) {
			t.Errorf("%+v: %v; want EINVALID naming %q", s.Graph, err, tt.want)
		}
	}
}
