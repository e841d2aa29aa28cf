package pfx

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// FuzzCheckFile checks any file, as roster cert check and the console's
// upload do: the report always says something about every rule of its
// kind, once, in order, with a fix for every failure and warning, and
// never shows the password.
func FuzzCheckFile(f *testing.F) {
	for _, b := range fuzzFiles(f) {
		f.Add(b, testPassword.Reveal(), "")
		f.Add(b, "Not-The-Pw-77", "corp.test")
	}
	f.Add([]byte("x"), "pw🔑", "aaddscontoso.com")
	f.Fuzz(func(t *testing.T, data []byte, password, domain string) {
		r := CheckFile(data, Options{Password: roster.Secret(password), Domain: domain, Now: now})
		if r == nil {
			t.Fatal("no report")
		}
		var own func(id string) bool
		switch r.Kind {
		case "pfx":
			own = func(id string) bool { return !strings.HasPrefix(id, "CER") }
		case "certificate":
			own = func(id string) bool { return !strings.HasPrefix(id, "PFX") }
		default:
			t.Fatalf("a report of kind %q", r.Kind)
		}
		var want []string
		for _, ti := range titles {
			if own(ti.id) {
				want = append(want, ti.id)
			}
		}
		var got []string
		for _, res := range r.Results {
			got = append(got, res.Rule)
			switch {
			case !slices.Contains([]Status{Pass, Warn, Fail, Skip}, res.Status):
				t.Errorf("%s has the status %q", res.Rule, res.Status)
			case res.Title == "" || res.Message == "":
				t.Errorf("%s says nothing: %+v", res.Rule, res)
			case (res.Status == Fail || res.Status == Warn) && res.Fix == "":
				t.Errorf("%s %s without a fix: %s", res.Rule, res.Status, res.Message)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("the %s report has the rules %v, want %v", r.Kind, got, want)
		}
		if r.Failed() != (r.Count(Fail) > 0) {
			t.Error("Failed disagrees with the count of failures")
		}
		// The certificate rules ran exactly when a certificate was read.
		if crt := status(r, "CRT-01"); (crt.Status != Skip) != (r.Certificate != nil) {
			t.Errorf("CRT-01 is %s, yet the report's certificate is %+v", crt.Status, r.Certificate)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("the report does not marshal: %v", err)
		}
		if len(password) >= 6 && !bytes.Contains(data, []byte(password)) && !strings.Contains(domain, password) &&
			!strings.Contains(strings.Join(append(slices.Clone(want), r.Kind), " "), password) && bytes.Contains(b, []byte(password)) {
			t.Errorf("the report shows the password %q: %s", password, b)
		}
	})
}

// FuzzParseCertificates reads any file as a certificate file, as the CA
// file of a source and roster cert check do.
func FuzzParseCertificates(f *testing.F) {
	for _, b := range fuzzFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates(data)
		if (len(certs) == 0) == (err == nil) {
			t.Fatalf("ParseCertificates = %d certificates, %v: want certificates or an error", len(certs), err)
		}
		if err != nil {
			if roster.ErrorCode(err) != roster.EINVALID {
				t.Fatalf("ParseCertificates error %v is not EINVALID", err)
			}
			return
		}
		for _, c := range certs {
			s := Summarize(c, now)
			if len(s.SHA256) != 32*3-1 || len(s.SHA1) != 40 || s.Key == "" {
				t.Errorf("a summary without fingerprints or key: %+v", s)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Errorf("the summary does not marshal: %v", err)
			}
		}
		r := CheckFile(data, Options{Now: now})
		if r.Kind != "certificate" || r.Certificate == nil {
			t.Fatalf("certificates were read, but CheckFile reports %q: %+v", r.Kind, r.Results[0])
		}
	})
}
