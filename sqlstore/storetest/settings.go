package storetest

import (
	"context"
	"database/sql"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// legacySettingsRow is a settings column exactly as roster wrote it
// before step 012: roster.Source marshalled under its Go field names
// (made by the roster of commit f411cee).
const legacySettingsRow = `{"ID":7,"Name":"corp","Type":"entra-ds","Address":"10.0.0.4","TLSMode":"ldaps","AllowInsecure":false,"Domain":"corp.test","BaseDNs":["OU=AADDC Users,DC=corp,DC=test"],"Login":"svc-print@corp.test","Password":"","Trust":{"CAPEM":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=","PinSHA256":"ab:cd","ServerName":"ldaps.corp.test","SkipVerify":false},"ConnectTimeout":20000000000,"RequestTimeout":90000000000,"RunTimeout":10800000000000,"UserFilter":"(department=*)","GroupScope":["CN=Printing,OU=Groups,DC=corp,DC=test"],"CertificateNotAfter":"0001-01-01T00:00:00Z","FullSchedule":"0 2 * * *","IncrementalInterval":300000000000,"Mapping":{"login":"userPrincipalName","cards":["employeeNumber","pager"],"card_transforms":[{"op":"trim"}],"print_code":"extensionAttribute2"},"WriteBack":{"print_code":"extensionAttribute2"},"DisabledUsers":"skip","Removal":{"Delete":true,"Grace":2592000000000000,"ThresholdPercent":2.5,"ThresholdCount":40}}`

// legacySettingsSource is the source legacySettingsRow holds.
func legacySettingsSource() *roster.Source {
	return &roster.Source{ID: 1, Name: "corp", Type: roster.EntraDS, Address: "10.0.0.4", TLSMode: roster.LDAPS,
		Domain: "corp.test", BaseDNs: []string{"OU=AADDC Users,DC=corp,DC=test"}, Login: "svc-print@corp.test",
		Trust:          roster.Trust{CAPEM: []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), PinSHA256: "ab:cd", ServerName: "ldaps.corp.test"},
		ConnectTimeout: 20 * time.Second, RequestTimeout: 90 * time.Second, RunTimeout: 3 * time.Hour,
		UserFilter: "(department=*)", GroupScope: []string{"CN=Printing,OU=Groups,DC=corp,DC=test"},
		FullSchedule: "0 2 * * *", IncrementalInterval: 5 * time.Minute,
		Mapping:       roster.Mapping{Login: roster.LoginUPN, Cards: []string{"employeeNumber", "pager"}, PrintCode: "extensionAttribute2", CardTransforms: roster.CardPipeline{{Op: "trim"}}},
		WriteBack:     roster.WriteBack{PrintCode: "extensionAttribute2"},
		DisabledUsers: roster.SkipDisabled,
		Removal:       roster.RemovalPolicy{Delete: true, Grace: 720 * time.Hour, ThresholdPercent: 2.5, ThresholdCount: 40},
	}
}

// RunSettingsUpgrade checks that schema step 012 carries a source's
// settings, stored under Go's field names, over to the written format
// with nothing lost, and that a deleted source (no settings) stays
// deleted. db is a store without a schema, r a plain connection to it,
// steps the store's schema steps.
func RunSettingsUpgrade(t *testing.T, db *sqlstore.DB, r *sql.DB, steps fs.FS) {
	ctx := context.Background()
	if err := db.Migrate(ctx, StepsBefore(t, steps, "012_settings_names.sql")); err != nil {
		t.Fatal(err)
	}
	// The row holds no quote, so it goes in as a literal on both stores.
	if _, err := r.Exec(`INSERT INTO sources (id, name, created_at, settings) VALUES (1, 'corp', '2025-03-01T08:00:00.000000000Z', '` + legacySettingsRow + `')`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Exec(`INSERT INTO sources (id, name, created_at) VALUES (2, 'gone', '2025-03-01T08:00:00.000000000Z')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, steps); err != nil {
		t.Fatal(err)
	}
	got, err := db.Source(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := legacySettingsSource(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after step 012 the source reads\n%+v\nwant\n%+v", got, want)
	}
	if _, err := db.Source(ctx, 2); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("a source without settings after step 012: %v", err)
	}
	var stored string
	if err := r.QueryRow(`SELECT settings FROM sources WHERE id = 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	written := roster.SettingsOf(got)
	if again, err := written.Source(); err != nil || !reflect.DeepEqual(roster.SettingsOf(again), written) {
		t.Fatalf("the written format does not round-trip: %v", err)
	}
	for _, goName := range []string{`"TLSMode"`, `"Trust"`, `"RequestTimeout"`} {
		if strings.Contains(stored, goName) {
			t.Errorf("the stored settings still hold %s: %s", goName, stored)
		}
	}
}
