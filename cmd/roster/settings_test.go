package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// A source written once, in roster's one written format, reads the same
// from a configuration file, through the API, and from the user base.
func TestASourceReadsTheSameFromAFileTheAPIAndTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const password = "Bind-Password-1"
	pwFile := filepath.Join(dir, "bind.pw")
	writeFile(t, pwFile, password+"\n")
	// Every setting away from its default, as an admin would write it.
	doc := map[string]any{
		"name": "corp", "type": "entra-ds", "address": "10.0.0.4:636", "tls": "ldaps", "domain": "corp.test",
		"base_dns": []string{"OU=AADDC Users,DC=corp,DC=test"}, "login": "svc-print@corp.test",
		"pin_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "server_name": "ldaps.corp.test",
		"connect_timeout": "20s", "timeout": "1m30s", "run_timeout": "3h", "user_filter": "(department=*)",
		"group_scope": []string{"CN=Printing,OU=Groups,DC=corp,DC=test"}, "full_schedule": "0 2 * * *", "incremental_interval": "5m",
		"mapping": map[string]any{"login": "userPrincipalName", "cards": []string{"employeeNumber", "pager"},
			"card_transforms": []map[string]string{{"op": "hex-to-dec"}}, "print_code": "extensionAttribute2"},
		"write_back":     map[string]string{"print_code": "extensionAttribute2"},
		"disabled_users": "skip",
		"removal":        map[string]any{"action": "delete", "grace": "720h", "threshold_percent": 2.5, "threshold_count": 40},
	}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range doc {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	// The configuration file, the password in a file of its own.
	cfgPath := filepath.Join(dir, "roster.json")
	b, _ := json.Marshal(map[string]any{"sources": []any{with(map[string]any{"password_file": pwFile})}})
	writeFile(t, cfgPath, string(b))
	var logs lockedBuffer
	a := quietApp(&logs)
	cfg, err := loadConfig(a, cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := cfg.Sources[0].source(a)
	if err != nil {
		t.Fatal(err)
	}
	want := roster.SettingsOf(fromFile)
	if want.Removal.Action != "delete" || want.IncrementalInterval != roster.Duration(5*time.Minute) || fromFile.Password.Reveal() != password {
		t.Fatalf("the file was not read whole: %+v", want)
	}

	// The API, then the user base behind it.
	data := filepath.Join(dir, "data")
	const adminPW = "Settings-Admin-Password-1"
	base, _, stop := serve(t, map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, data)
	api := signIn(t, base, adminPW)
	code, body := api.call("POST", "/api/v1/sources", with(map[string]any{"password": password}))
	if code != 201 {
		t.Fatalf("POST /sources = %d %v", code, body)
	}
	code, _ = api.call("GET", fmt.Sprintf("/api/v1/sources/%v", body["id"]), nil)
	if code != 200 {
		t.Fatalf("GET the source = %d", code)
	}
	var fromAPI roster.SourceSettings
	if err := json.Unmarshal([]byte(api.responses[len(api.responses)-1]), &fromAPI); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromAPI, want) {
		t.Errorf("through the API the source reads\n%+v\nfrom the file\n%+v", fromAPI, want)
	}
	stop()

	fromStore, err := sealedStore(t, a, data).Source(ctx, int64(body["id"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	if got := roster.SettingsOf(fromStore); !reflect.DeepEqual(got, want) || fromStore.Password.Reveal() != password {
		t.Errorf("from the user base the source reads\n%+v\nfrom the file\n%+v", got, want)
	}
}
