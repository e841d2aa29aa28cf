package roster

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullSettings sets every field of SourceSettings to a value other than
// its default, so that a field a conversion forgets shows.
func fullSettings() SourceSettings {
	return SourceSettings{
		Name: "corp", Type: "entra-ds", Address: "10.0.0.4", TLS: "starttls", AllowInsecure: true,
		Domain: "corp.test", BaseDNs: []string{"OU=AADDC Users,DC=corp,DC=test"}, Login: "svc-print@corp.test",
		Graph: GraphApp{TenantID: "8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55", ClientID: "5f3d2a10-7c1e-4b8a-a0d9-6e2f4c1b9d77", Cloud: "usgov",
			AuthorityHost: "https://127.0.0.1:8443", GraphHost: "https://127.0.0.1:8443", CertFile: "/etc/roster/graph.pem", KeyFile: "/etc/roster/graph.key"},
		CAPEM: "-----BEGIN CERTIFICATE-----\n", PinSHA256: "ab:cd", ServerName: "ldaps.corp.test", InsecureSkipVerify: true,
		ConnectTimeout: Duration(20 * time.Second), Timeout: Duration(90 * time.Second), RunTimeout: Duration(3 * time.Hour),
		UserFilter: "(department=*)", GroupScope: []string{"CN=Printing,DC=corp,DC=test"},
		FullSchedule: "0 2 * * *", IncrementalInterval: Duration(5 * time.Minute),
		Mapping:       Mapping{Login: LoginUPN, Cards: []string{"employeeNumber"}, CardTransforms: CardPipeline{{Op: "hex-to-dec"}}, PrintCode: "extensionAttribute2"},
		WriteBack:     WriteBack{PrintCode: "extensionAttribute2"},
		DisabledUsers: "skip",
		Removal:       RemovalSettings{Action: "delete", Grace: Duration(720 * time.Hour), ThresholdPercent: 2.5, ThresholdCount: 40},
	}
}

func TestSourceSettings(t *testing.T) {
	t.Run("every field survives settings to source and back", func(t *testing.T) {
		in := fullSettings()
		src, err := in.Source()
		if err != nil {
			t.Fatal(err)
		}
		if got := SettingsOf(src); !reflect.DeepEqual(got, in) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, in)
		}
		v := reflect.ValueOf(in)
		for i := range v.NumField() {
			if v.Field(i).IsZero() && v.Type().Field(i).Name != "Password" {
				t.Errorf("fullSettings leaves %s zero: the test would not see it lost", v.Type().Field(i).Name)
			}
		}
	})
	t.Run("the JSON names are the written format's, and read back the same", func(t *testing.T) {
		in := fullSettings()
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{`"tls":"starttls"`, `"ca_pem":`, `"timeout":"1m30s"`, `"removal":{"action":"delete","grace":"720h0m0s"`, `"incremental_interval":"5m0s"`} {
			if !strings.Contains(string(b), name) {
				t.Errorf("%s is not in %s", name, b)
			}
		}
		var out SourceSettings
		if err := json.Unmarshal(b, &out); err != nil || !reflect.DeepEqual(out, in) {
			t.Fatalf("read back %+v, %v", out, err)
		}
	})
	t.Run("the password is read but never written", func(t *testing.T) {
		var s SourceSettings
		if err := json.Unmarshal([]byte(`{"name":"x","password":"Sekret-1"}`), &s); err != nil || s.Password.Reveal() != "Sekret-1" {
			t.Fatalf("password read as %v, %v", s.Password, err)
		}
		src, _ := s.Source()
		if b, _ := json.Marshal(SettingsOf(src)); strings.Contains(string(b), "password") {
			t.Fatalf("SettingsOf writes the password: %s", b)
		}
	})
	t.Run("defaults fill what is left out", func(t *testing.T) {
		src, err := (&SourceSettings{Name: "x", Type: "AD", DisabledUsers: "", Removal: RemovalSettings{}}).Source()
		if err != nil {
			t.Fatal(err)
		}
		if src.Type != ActiveDirectory || src.TLSMode != LDAPS || src.DisabledUsers != KeepDisabled || src.Removal.Delete {
			t.Fatalf("defaults: %+v", src)
		}
	})
	t.Run("an ldap:// URL in the address chooses StartTLS when no mode is given", func(t *testing.T) {
		src, err := (&SourceSettings{Name: "x", Type: "ad", Address: "ldap://dc.corp.test", Domain: "corp.test", Login: "svc"}).Source()
		if err != nil || src.TLSMode != "" || src.Mode() != StartTLS || src.ValidateSettings() != nil {
			t.Fatalf("%+v, %v; mode %s, %v", src, err, src.Mode(), src.ValidateSettings())
		}
		if got := SettingsOf(src); got.TLS != "" {
			t.Fatalf("written back as tls %q", got.TLS)
		}
	})
	t.Run("the removal action is read without regard to case, with its grace", func(t *testing.T) {
		src, err := (&SourceSettings{Name: "x", Removal: RemovalSettings{Action: "DELETE", Grace: Duration(720 * time.Hour)}}).Source()
		if err != nil || !src.Removal.Delete || src.Removal.Grace != 720*time.Hour {
			t.Fatalf("%+v, %v", src.Removal, err)
		}
	})
	t.Run("a grace period without delete is ignored, as leavers are disabled at once", func(t *testing.T) {
		src, err := (&SourceSettings{Name: "x", Removal: RemovalSettings{Action: "disable", Grace: Duration(time.Hour)}}).Source()
		if err != nil || src.Removal.Delete || src.Removal.Grace != 0 {
			t.Fatalf("%+v, %v", src.Removal, err)
		}
	})
	for _, tc := range []struct {
		name string
		s    SourceSettings
		want string
	}{
		{"an unknown removal action is refused", SourceSettings{Name: "x", Removal: RemovalSettings{Action: "purge"}}, "not disable or delete"},
		{"an unknown disabled_users is refused", SourceSettings{Name: "x", DisabledUsers: "hide"}, "not keep or skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Source()
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tc.want) {
				t.Fatalf("%v; want EINVALID %q", err, tc.want)
			}
		})
	}
	t.Run("a duration is written as Go writes one, and an empty one is zero", func(t *testing.T) {
		var d Duration
		if err := d.UnmarshalText([]byte("")); err != nil || d != 0 {
			t.Fatalf("empty: %v %v", d, err)
		}
		if err := d.UnmarshalText([]byte("often")); ErrorCode(err) != EINVALID {
			t.Fatalf("often: %v", err)
		}
		if b, _ := Duration(90 * time.Second).MarshalText(); string(b) != "1m30s" {
			t.Fatalf("90s written as %s", b)
		}
	})
}
