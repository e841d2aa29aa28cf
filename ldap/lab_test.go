package ldap_test

// Smoke tests against the real directory lab (lab/lab up): Samba as an AD
// domain controller and OpenLDAP, over LDAPS and StartTLS, with the
// certificate verified against the lab CA, bound as the ordinary svc-print
// account. Expected values come from regenerating the lab data from its
// seed, not from constants.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labdata"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/ldap"
)

var labCases = []struct {
	name string
	dir  labenv.Directory
	mode roster.TLSMode
}{
	{"AD over LDAPS", labenv.AD, roster.LDAPS},
	{"AD over StartTLS", labenv.AD, roster.StartTLS},
	{"OpenLDAP over LDAPS", labenv.OpenLDAP, roster.LDAPS},
	{"OpenLDAP over StartTLS", labenv.OpenLDAP, roster.StartTLS},
}

func connect(t *testing.T, src *roster.Source) *ldap.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), labenv.Budget(30*time.Second))
	defer cancel()
	c, err := ldap.Dial(ctx, src)
	if err != nil {
		t.Fatalf("Dial(%s): %v", src.Address, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(ctx); err != nil {
		t.Fatalf("Bind(%s): %v", src.Login, err)
	}
	return c
}

// bindErr dials (which must work) and returns the error of a bind that
// must fail.
func bindErr(t *testing.T, src *roster.Source) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), labenv.Budget(30*time.Second))
	defer cancel()
	c, err := ldap.Dial(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Bind(ctx)
	if err == nil {
		t.Fatalf("Bind(%s) succeeded; it must fail here", src.Login)
	}
	return err
}

func userFilter(d labenv.Directory) string {
	if d == labenv.AD {
		return "(&(objectCategory=person)(objectClass=user))"
	}
	return "(objectClass=inetOrgPerson)"
}

// expectedUsers is how many person entries lie under the users base: on
// AD every account, the service account included (Entra DS keeps all
// users in AADDC Users); on OpenLDAP the service account sits in ou=system.
func expectedUsers(d labenv.Directory, data *labdata.Data) int {
	n := 0
	for _, u := range data.Users {
		if d == labenv.AD || !u.Service {
			n++
		}
	}
	return n
}

func TestLabBindVerifiesCertificateAsOrdinaryAccount(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range labCases {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, env.Source(t, tc.dir, tc.mode))
			st := c.TLS()
			if st == nil || st.Version < 0x0303 {
				t.Fatalf("connection is not TLS 1.2 or later: %+v", st)
			}
			if got := c.Verified(); got != "chain" {
				t.Fatalf("Verified() = %q, want the chain verified against the lab CA", got)
			}
			leaf := st.PeerCertificates[0]
			if !strings.HasPrefix(leaf.Subject.CommonName, "*.") {
				t.Errorf("server certificate subject %q is not a wildcard", leaf.Subject.CommonName)
			}
		})
	}
}

func TestLabWrongPasswordIsExplainedAndNotRetried(t *testing.T) {
	env := labenv.Require(t)
	tests := []struct {
		dir  labenv.Directory
		want string
	}{
		{labenv.AD, "wrong password (AD gives the same answer for an unknown login"},
		{labenv.AD, "roster does not retry"},
		{labenv.AD, "(AD code 52e)"},
		{labenv.OpenLDAP, "wrong DN or password (LDAP code 49)"},
	}
	for _, tt := range tests {
		t.Run(string(tt.dir)+" says "+tt.want, func(t *testing.T) {
			src := env.Source(t, tt.dir, roster.LDAPS)
			src.Password = "not-the-password"
			err := bindErr(t, src)
			if roster.ErrorCode(err) != roster.EUNAUTHORIZED || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Bind() = %v (code %q), want EUNAUTHORIZED saying %q", err, roster.ErrorCode(err), tt.want)
			}
			if !strings.Contains(err.Error(), src.Login) || strings.Contains(err.Error(), "not-the-password") {
				t.Fatalf("error must name the login and never the password: %v", err)
			}
		})
	}
}

func TestLabDisabledAccountBindIsExplained(t *testing.T) {
	env := labenv.Require(t)
	src := env.Source(t, labenv.AD, roster.StartTLS)
	src.Login = labdata.DisabledLogin + "@" + src.Domain
	src.Password = roster.Secret(env.Get("LAB_TEST_PASSWORD"))
	err := bindErr(t, src)
	if !strings.Contains(err.Error(), "the account is disabled") || !strings.Contains(err.Error(), "(AD code 533)") {
		t.Fatalf("Bind() as a disabled account = %v, want the AD 533 explanation", err)
	}
}

func TestLabPagedSearchReturnsEveryGeneratedUser(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range labCases {
		t.Run(tc.name, func(t *testing.T) {
			src := env.Source(t, tc.dir, tc.mode)
			c := connect(t, src)
			want := map[string]bool{}
			for _, u := range env.Data(t, tc.dir).Users {
				if tc.dir == labenv.AD || !u.Service {
					want[u.Login] = true
				}
			}
			loginAttr := "uid"
			if tc.dir == labenv.AD {
				loginAttr = "sAMAccountName"
			}
			got := map[string]bool{}
			st, err := c.Search(context.Background(), ldap.SearchRequest{
				BaseDN: src.SearchBases()[0], Scope: ldap.ScopeSubtree,
				Filter: userFilter(tc.dir), Attributes: []string{loginAttr}, PageSize: 500,
			}, func(e *ldap.Entry) error {
				l := e.Value(loginAttr)
				if got[l] {
					t.Errorf("login %s returned twice", l)
				}
				got[l] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || st.Entries != len(want) {
				t.Fatalf("search returned %d entries (%d distinct), want %d", st.Entries, len(got), len(want))
			}
			for l := range want {
				if !got[l] {
					t.Fatalf("generated user %s missing from the directory", l)
				}
			}
			if wantPages := (len(want) + 499) / 500; st.Pages != wantPages {
				t.Errorf("search took %d pages of 500, want %d", st.Pages, wantPages)
			}
		})
	}
}

// The lab's OpenLDAP enforces AD's 1,000-entry limit, so a client that
// forgets paging fails there as it would against Windows or Entra DS.
// roster's own client always pages, so this plays the forgetful client
// with go-ldap directly.
func TestLabOpenLDAPEnforcesSizeLimitWithoutPaging(t *testing.T) {
	env := labenv.Require(t)
	src := env.Source(t, labenv.OpenLDAP, roster.LDAPS)
	if n := expectedUsers(labenv.OpenLDAP, env.Data(t, labenv.OpenLDAP)); n <= ldap.MaxPageSize {
		t.Skipf("the lab holds %d users; the limit shows only above %d", n, ldap.MaxPageSize)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(src.Trust.CAPEM)
	c, err := goldap.DialURL(env.Get("LAB_OL_LDAPS_URL"),
		goldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, ServerName: src.ServerName()}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(src.Login, src.Password.Reveal()); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(goldap.NewSearchRequest(src.SearchBases()[0], goldap.ScopeWholeSubtree,
		goldap.NeverDerefAliases, 0, 0, false, userFilter(labenv.OpenLDAP), []string{"1.1"}, nil))
	if !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("an unpaged search = %v, want size limit exceeded (code 4)", err)
	}
	if res == nil || len(res.Entries) != ldap.MaxPageSize {
		t.Fatalf("an unpaged search returned %d entries before the limit, want %d", len(res.Entries), ldap.MaxPageSize)
	}
}

func TestLabBigGroupMembersThroughRangeRetrieval(t *testing.T) {
	env := labenv.Require(t)
	for _, mode := range []roster.TLSMode{roster.LDAPS, roster.StartTLS} {
		t.Run(string(mode), func(t *testing.T) {
			src := env.Source(t, labenv.AD, mode)
			c := connect(t, src)
			data := env.Data(t, labenv.AD)
			big := data.Group(labdata.BigGroup)
			if len(big.Members) <= ldap.MaxValRange {
				t.Fatalf("the lab's big group has %d members; it must exceed %d", len(big.Members), ldap.MaxValRange)
			}
			ad := labdata.AD{BaseDN: env.Get("LAB_AD_BASE_DN"), Domain: src.Domain, UsersOU: env.Get("LAB_AD_USERS_DN")}
			members, st, err := c.Values(context.Background(), ad.GroupDN(labdata.BigGroup), "member")
			if err != nil {
				t.Fatal(err)
			}
			wantSteps := (len(big.Members) + ldap.MaxValRange - 1) / ldap.MaxValRange
			if st.Steps != wantSteps {
				t.Errorf("range retrieval took %d steps, want %d", st.Steps, wantSteps)
			}
			byLogin := map[string]*labdata.Account{}
			for i := range data.Users {
				byLogin[data.Users[i].Login] = &data.Users[i]
			}
			var want []string
			for _, l := range big.Members {
				want = append(want, strings.ToLower(ad.UserDN(byLogin[l])))
			}
			for i := range members {
				members[i] = strings.ToLower(members[i])
			}
			slices.Sort(want)
			slices.Sort(members)
			if !slices.Equal(members, want) {
				t.Fatalf("got %d members, want the %d generated ones", len(members), len(want))
			}
		})
	}
}

func TestLabDisabledADUsersShowAsDisabled(t *testing.T) {
	env := labenv.Require(t)
	for _, mode := range []roster.TLSMode{roster.LDAPS, roster.StartTLS} {
		t.Run(string(mode), func(t *testing.T) { checkDisabledUsers(t, env, mode) })
	}
}

func checkDisabledUsers(t *testing.T, env *labenv.Env, mode roster.TLSMode) {
	src := env.Source(t, labenv.AD, mode)
	c := connect(t, src)
	var disabled []string
	_, err := c.Search(context.Background(), ldap.SearchRequest{
		BaseDN: src.SearchBases()[0], Scope: ldap.ScopeSubtree, Filter: userFilter(labenv.AD),
		Attributes: []string{"sAMAccountName", "userAccountControl"},
	}, func(e *ldap.Entry) error {
		uac, err := strconv.Atoi(e.Value("userAccountControl"))
		if err != nil {
			t.Errorf("%s: userAccountControl %q: %v", e.DN, e.Value("userAccountControl"), err)
		}
		if uac&0x2 != 0 {
			disabled = append(disabled, e.Value("sAMAccountName"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := env.Data(t, labenv.AD).DisabledLogins()
	slices.Sort(want)
	slices.Sort(disabled)
	if len(want) == 0 || !slices.Equal(disabled, want) {
		t.Fatalf("disabled accounts = %d %v..., want the %d generated ones", len(disabled), head(disabled), len(want))
	}
}

func TestLabRootDSETellsDirectoriesApart(t *testing.T) {
	env := labenv.Require(t)
	for _, tc := range []struct {
		dir  labenv.Directory
		want string
	}{{labenv.AD, "Active Directory"}, {labenv.OpenLDAP, "OpenLDAP"}} {
		t.Run(tc.want, func(t *testing.T) {
			c := connect(t, env.Source(t, tc.dir, roster.LDAPS))
			r, err := c.RootDSE(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if r.Vendor != tc.want || !r.SupportsPaging {
				t.Fatalf("RootDSE = vendor %q, paging %v; want %q with paging", r.Vendor, r.SupportsPaging, tc.want)
			}
			if tc.dir == labenv.AD && (r.HighestUSN == "" || r.DSServiceName == "") {
				t.Errorf("AD rootDSE lacks highestCommittedUSN or dsServiceName: %+v", r)
			}
			if tc.dir == labenv.OpenLDAP && !r.SupportsContentSync {
				t.Errorf("OpenLDAP rootDSE does not offer RFC 4533 content sync (syncprov)")
			}
		})
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }
