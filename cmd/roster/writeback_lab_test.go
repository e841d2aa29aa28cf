package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/lab/labdata"
	"github.com/rosterhq/roster/lab/labenv"
)

// TestWriteBackOnTheLab: roster writes a print code it made back to the
// user's entry, on Samba AD and on OpenLDAP. The test write refuses the
// ordinary read account, with what to do, and passes for an account with
// the right; the next sync reads back what roster wrote.
func TestWriteBackOnTheLab(t *testing.T) {
	env := labenv.Require(t)
	ca, _ := os.ReadFile(env.Get("LAB_CA_FILE"))
	for _, tc := range []struct {
		d                  labenv.Directory
		form               map[string]any
		attr, admin, refer string
	}{
		{labenv.AD, map[string]any{"type": "ad", "address": "127.0.0.1", "domain": "corp.test", "login": "svc-print@corp.test"},
			"employeeNumber", env.Get("LAB_AD_ADMIN_USER"), "svc-print@corp.test may not write employeeNumber"},
		{labenv.OpenLDAP, map[string]any{"type": "openldap", "address": strings.TrimPrefix(env.Get("LAB_OL_LDAPS_URL"), "ldaps://"),
			"domain": env.Get("LAB_OL_DOMAIN"), "server_name": env.Get("LAB_OL_SERVER_NAME"), "base_dns": []string{env.Get("LAB_OL_USERS_DN")},
			"login": env.Get("LAB_OL_BIND_USER")}, "printCode", env.Get("LAB_OL_ADMIN_DN"), "may not write printCode"},
	} {
		t.Run(string(tc.d), func(t *testing.T) {
			const adminPW = "WriteBack-Admin-Password-1"
			url, _, stop := serve(t, map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, t.TempDir())
			defer stop()
			a := signIn(t, url, adminPW)

			form := map[string]any{"name": "lab", "tls": "ldaps", "password": env.Get("LAB_BIND_PASSWORD"), "ca_pem": string(ca),
				"write_back": map[string]string{"print_code": tc.attr}}
			for k, v := range tc.form {
				form[k] = v
			}
			code, body := a.call("POST", "/api/v1/sources", form)
			if code != 201 {
				t.Fatalf("create = %d %v", code, body)
			}
			id := fmt.Sprint(int(body["id"].(float64)))
			sync := func() {
				code, body := a.call("POST", "/api/v1/sources/"+id+"/sync", nil)
				if code != 202 {
					t.Fatalf("sync = %d %v", code, body)
				}
				resp, err := a.c.Get(url + "/api/v1/runs/" + fmt.Sprint(int(body["run_id"].(float64))) + "/events")
				if err != nil {
					t.Fatal(err)
				}
				events, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(events), `"status":"succeeded"`) {
					t.Fatalf("sync events:\n%s", events)
				}
			}
			sync()

			// The ordinary read account: refused, with the fix.
			code, body = a.call("POST", "/api/v1/sources/"+id+"/write-test", nil)
			checks, _ := body["checks"].([]any)
			if code != 200 || len(checks) != 1 || checks[0].(map[string]any)["ok"] != false ||
				!strings.Contains(fmt.Sprint(checks[0].(map[string]any)["error"]), tc.refer) {
				t.Fatalf("write test as the read account = %d %v", code, body)
			}

			// An account with the right: the test passes, then a new
			// print code goes to the directory.
			form["id"], form["login"], form["password"] = mustFloat(id), tc.admin, env.Get("LAB_ADMIN_PASSWORD")
			if code, body := a.call("PUT", "/api/v1/sources/"+id, form); code != 200 {
				t.Fatalf("update = %d %v", code, body)
			}
			code, body = a.call("POST", "/api/v1/sources/"+id+"/write-test", nil)
			if checks, _ := body["checks"].([]any); code != 200 || len(checks) != 1 || checks[0].(map[string]any)["ok"] != true {
				t.Fatalf("write test with the right = %d %v", code, body)
			}
			admin := env.Admin(t, tc.d)
			dn := entryDN(t, admin, env, tc.d, labdata.TestLogin)
			before := attrOf(t, admin, dn, tc.attr)
			t.Cleanup(func() { // the lab's test-user keeps its generated code
				m := goldap.NewModifyRequest(dn, nil)
				m.Replace(tc.attr, []string{before})
				env.Admin(t, tc.d).Modify(m)
			})
			code, body = a.call("POST", "/api/v1/users/"+labdata.TestLogin+"/print-code", nil)
			pin, _ := body["code"].(string)
			if code != 200 || body["written_to"] != tc.attr || pin == "" {
				t.Fatalf("new print code = %d %v", code, body)
			}
			if got := attrOf(t, admin, dn, tc.attr); got != pin {
				t.Fatalf("the directory holds %q, want the new code", got)
			}
			// The next sync reads the code back: nothing to change.
			sync()
			code, body = a.call("GET", "/api/v1/users/"+labdata.TestLogin, nil)
			if code != 200 || body["print_code_set"] != true {
				t.Fatalf("user after the sync = %d %v", code, body)
			}
			code, body = a.call("GET", "/api/v1/runs", nil)
			if !strings.Contains(fmt.Sprint(body), "write-back") || strings.Contains(a.responses[len(a.responses)-1], pin) {
				t.Fatalf("the runs do not record the write, or show the code: %v", body)
			}
		})
	}
}

func entryDN(t *testing.T, c *goldap.Conn, env *labenv.Env, d labenv.Directory, login string) string {
	t.Helper()
	base, filter := env.Get("LAB_AD_BASE_DN"), "(sAMAccountName="+login+")"
	if d == labenv.OpenLDAP {
		base, filter = env.Get("LAB_OL_BASE_DN"), "(uid="+login+")"
	}
	res, err := c.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 2, 10, false, filter, []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("find %s: %v", login, err)
	}
	return res.Entries[0].DN
}

func attrOf(t *testing.T, c *goldap.Conn, dn, attr string) string {
	t.Helper()
	res, err := c.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 10, false, "(objectClass=*)", []string{attr}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s of %s: %v", attr, dn, err)
	}
	return res.Entries[0].GetAttributeValue(attr)
}
