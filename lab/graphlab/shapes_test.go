package graphlab

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// shape flattens a JSON value into its property paths and their JSON
// types: "value[].id string". Array elements share one path.
func shape(v any, path string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		out[path+" object"] = true
		for k, e := range x {
			shape(e, path+"."+k, out)
		}
	case []any:
		out[path+" array"] = true
		for _, e := range x {
			shape(e, path+"[]", out)
		}
	case string:
		out[path+" string"] = true
	case float64:
		out[path+" number"] = true
	case bool:
		out[path+" bool"] = true
	}
}

func shapeOf(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out := map[string]bool{}
	shape(v, "", out)
	return out
}

// The double answers with the property paths and JSON types of the
// example answers in Microsoft's documentation (testdata/README.md).
func TestAnswersHaveTheDocumentedShapes(t *testing.T) {
	const tenant, client, secret = "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55", "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77", "the-secret-value"
	s := New(tenant)
	defer s.Close()
	s.Register(App{ClientID: client, Secret: secret, Roles: []string{"User.Read.All", "GroupMember.Read.All"}})
	s.Register(App{ClientID: "11111111-2222-4333-8444-555555555555", Secret: secret}) // no role
	s.SetUsers([]map[string]any{
		{"id": "u1", "displayName": "One", "userPrincipalName": "one@corp.test", "accountEnabled": true},
		{"id": "u2", "displayName": "Two", "userPrincipalName": "two@corp.test", "accountEnabled": true},
		{"id": "u3", "displayName": "Three", "userPrincipalName": "three@corp.test", "accountEnabled": true},
	})
	s.SetGroups([]Group{{ID: "g1", Name: "Outer", Members: []string{"u1", "g2"}}, {ID: "g2", Name: "Inner", Members: []string{"u2"}}})
	c := s.Client()
	token := func(id, secret string) (int, []byte) {
		resp, err := c.PostForm(s.URL+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
			"client_secret": {secret}, "scope": {s.URL + "/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	bearer := func(id string) string {
		_, b := token(id, secret)
		var tk struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(b, &tk)
		return tk.AccessToken
	}
	get := func(u, tok string) []byte {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	ok := bearer(client)
	var round struct {
		Delta string `json:"@odata.deltaLink"`
	}
	json.Unmarshal(get(s.URL+"/v1.0/users/delta?$select=displayName", ok), &round)
	s.UpsertUser(map[string]any{"id": "u2", "displayName": "Two Renamed", "userPrincipalName": "two@corp.test", "accountEnabled": true})
	s.DeleteUser("u3", false)

	_, tokenOK := token(client, secret)
	_, tokenBad := token(client, "not-the-secret")
	answers := map[string][]byte{
		"token.json":              tokenOK,
		"token-error.json":        tokenBad,
		"users-page.json":         get(s.URL+"/v1.0/users?$select=id,displayName,userPrincipalName&$top=1", ok),
		"users-delta-last.json":   get(round.Delta, ok),
		"transitive-members.json": get(s.URL+"/v1.0/groups/g1/transitiveMembers", ok),
		"error.json":              get(s.URL+"/v1.0/users", bearer("11111111-2222-4333-8444-555555555555")),
	}
	for file, answer := range answers {
		want, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		got := shapeOf(t, answer)
		var missing []string
		for p := range shapeOf(t, want) {
			if !got[p] {
				missing = append(missing, p)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: the double's answer lacks %s\n%s", file, strings.Join(missing, ", "), answer)
		}
	}
}
