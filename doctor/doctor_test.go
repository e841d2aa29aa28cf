package doctor_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/doctor"
	"github.com/rosterhq/roster/lab/graphlab"
	"github.com/rosterhq/roster/lab/labenv"
)

const (
	tenant   = "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55"
	clientID = "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77"
	secret   = "lab~Secret.Value-0123456789abcdefghij"
)

// last is the report's last step: where the chain stopped.
func last(r *doctor.Report) doctor.Step { return r.Steps[len(r.Steps)-1] }

func names(r *doctor.Report) string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, string(s.Status)+" "+s.Name)
	}
	return strings.Join(out, ", ")
}

func graphSource(t *testing.T, roles ...string) (*graphlab.Server, *roster.Source) {
	t.Helper()
	s := graphlab.New(tenant)
	t.Cleanup(s.Close)
	s.Register(graphlab.App{ClientID: clientID, Secret: secret, Roles: roles})
	s.SetUsers([]map[string]any{{"id": "u1", "userPrincipalName": "a@corp.test", "accountEnabled": true}})
	return s, &roster.Source{Name: "tenant", Type: roster.EntraID, Password: secret,
		Graph: roster.GraphApp{TenantID: tenant, ClientID: clientID, AuthorityHost: s.URL, GraphHost: s.URL},
		Trust: roster.Trust{CAPEM: s.CAPEM()}}
}

// An Entra ID source that works passes every step; each broken set-up
// stops at its step with its fix.
func TestDiagnoseEntraID(t *testing.T) {
	ctx := context.Background()
	_, src := graphSource(t, "User.Read.All", "GroupMember.Read.All")
	if r := (doctor.Doctor{}).Diagnose(ctx, src); !r.OK || len(r.Steps) != 7 {
		t.Fatalf("a working source: %s", names(r))
	}

	t.Run("a missing role", func(t *testing.T) {
		_, src := graphSource(t, "User.Read.All")
		r := doctor.Doctor{}.Diagnose(ctx, src)
		if s := last(r); r.OK || s.Name != "roles" || !strings.Contains(s.Detail, "lacks GroupMember.Read.All") || !strings.Contains(s.Fix, "Grant admin consent") {
			t.Fatalf("%s: %+v", names(r), last(r))
		}
	})
	t.Run("an expired secret", func(t *testing.T) {
		g, src := graphSource(t, "User.Read.All", "GroupMember.Read.All")
		g.Register(graphlab.App{ClientID: clientID, Secret: secret, SecretExpired: true})
		r := doctor.Doctor{}.Diagnose(ctx, src)
		if s := last(r); r.OK || s.Name != "token" || !strings.Contains(s.Detail, "AADSTS7000222") {
			t.Fatalf("%s: %+v", names(r), last(r))
		}
	})
	t.Run("a wrong tenant", func(t *testing.T) {
		_, src := graphSource(t, "User.Read.All", "GroupMember.Read.All")
		src.Graph.TenantID = "99999999-0000-4000-8000-000000000000"
		r := doctor.Doctor{}.Diagnose(ctx, src)
		if s := last(r); r.OK || s.Name != "token host" || !strings.Contains(s.Detail, "AADSTS90002") {
			t.Fatalf("%s: %+v", names(r), last(r))
		}
	})
}

// On the lab's directories: a working source passes; a wrong CA, a wrong
// name, a wrong password and a closed port each stop at their step.
func TestDiagnoseLDAP(t *testing.T) {
	env := labenv.Require(t)
	ctx := context.Background()
	for _, d := range []labenv.Directory{labenv.AD, labenv.OpenLDAP} {
		t.Run(string(d), func(t *testing.T) {
			if r := (doctor.Doctor{}).Diagnose(ctx, env.Source(t, d, roster.LDAPS)); !r.OK {
				t.Fatalf("the lab source: %s: %+v", names(r), last(r))
			}
			other, _ := graphlab.NewCredential() // a certificate that signed nothing the lab serves
			for _, tt := range []struct {
				name   string
				change func(*roster.Source)
				step   string
				want   string
			}{
				{"wrong CA", func(s *roster.Source) {
					s.Trust.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Cert.Raw})
				}, "trust", "not trusted"},
				{"wrong name", func(s *roster.Source) { s.Trust.ServerName = "wrong.invalid" }, "trust", "wrong.invalid"},
				{"wrong password", func(s *roster.Source) { s.Password = "Not-The-Password-1" }, "sign-in", "password"},
				{"closed port", func(s *roster.Source) { s.Address = labenv.ClosedAddress(t) }, "tcp", "refused"},
				// An ordinary person, who reads itself and no one else on
				// the OpenLDAP lab (its access rules); on AD any account
				// reads the users, so the case is OpenLDAP's.
				{"an account without read rights", func(s *roster.Source) {
					s.Login, s.Password = "uid=test-user,"+env.Get("LAB_OL_USERS_DN"), roster.Secret(env.Get("LAB_TEST_PASSWORD"))
				}, "users", "read rights"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if tt.name == "an account without read rights" && d != labenv.OpenLDAP {
						t.Skip("AD lets every account read the users")
					}
					src := env.Source(t, d, roster.LDAPS)
					tt.change(src)
					r := doctor.Doctor{}.Diagnose(ctx, src)
					s := last(r)
					if r.OK || s.Name != tt.step || s.Status != doctor.Fail || !strings.Contains(strings.ToLower(s.Detail+" "+s.Fix), strings.ToLower(tt.want)) {
						t.Fatalf("%s: %+v; want a failure at %s naming %q", names(r), s, tt.step, tt.want)
					}
					if strings.Contains(fmt.Sprint(r), string(src.Password)) {
						t.Fatalf("the report shows the password")
					}
				})
			}
		})
	}
}
