package roster

import (
	"strings"
	"testing"
	"time"
)

func TestCertificateExpiry(t *testing.T) {
	now := time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		notAfter time.Time
		days     int
		soon     bool
		warning  string
	}{
		{"a certificate valid until tonight has 0 days left", time.Date(2026, 12, 2, 23, 59, 0, 0, time.UTC), 0, true, "expires in 0 days, on 2026-12-02"},
		{"one valid a year is not warned about", now.AddDate(1, 0, 0), 365, false, ""},
		{"29 days is within the warning", now.AddDate(0, 0, 29), 29, true, "expires in 29 days"},
		{"30 days is not", now.AddDate(0, 0, 30), 30, false, ""},
		{"an expired one is said to have expired", now.AddDate(0, 0, -3), -3, true, "expired on 2026-11-29"},
		{"one valid until 3014 counts its days, past time.Duration's ceiling", time.Date(3014, 1, 1, 0, 0, 0, 0, time.UTC), 360524, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			days, soon := ExpiresSoon(tc.notAfter, now)
			if days != tc.days || soon != tc.soon {
				t.Errorf("ExpiresSoon = %d, %v; want %d, %v", days, soon, tc.days, tc.soon)
			}
			w := DirectoryCertificateWarning(EntraDS, tc.notAfter, now)
			if (tc.warning == "") != (w == "") || !strings.Contains(w, tc.warning) {
				t.Errorf("warning %q; want one holding %q", w, tc.warning)
			}
		})
	}
	if w := DirectoryCertificateWarning(EntraDS, time.Time{}, now); w != "" {
		t.Errorf("a certificate never seen is warned about: %q", w)
	}
	// Each directory is told where it renews its certificate; only Entra
	// DS is sent to Entra DS.
	soon := now.AddDate(0, 0, 5)
	for typ, where := range map[DirectoryType]string{EntraDS: "Change certificate", ActiveDirectory: "domain controller", OpenLDAP: "olcTLSCertificateFile", GenericLDAP: "directory's servers"} {
		w := DirectoryCertificateWarning(typ, soon, now)
		if !strings.Contains(w, where) || (typ != EntraDS && strings.Contains(w, "Entra DS")) {
			t.Errorf("%s: %q", typ, w)
		}
	}
}
