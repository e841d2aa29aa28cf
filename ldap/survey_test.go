package ldap

import (
	"context"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// TestSurveyCountsDisabledUsersAsTheSyncDoes serves three AD users (one
// disabled, one expired, one enabled) to a survey and to the sync's
// mapping: both must count the same, 2 where the source is AD's, where a
// count of userAccountControl alone, as roster connect once made, says 1.
// The lab test TestLabConnectAndSyncCountDisabledUsersAlike does the
// same against Samba.
func TestSurveyCountsDisabledUsersAsTheSyncDoes(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ticks := func(t time.Time) string { return itoa(t.UnixNano()/100 + 116444736000000000) }
	tests := []struct {
		name         string
		typ          roster.DirectoryType
		server       string // supportedCapabilities of the rootDSE
		wantDisabled int    // -1: not counted
		wantWarning  bool   // the type does not match the server
	}{
		{"an AD source counts the disabled and the expired account", roster.ActiveDirectory, oidADCapability, 2, false},
		{"an Entra DS source counts them too", roster.EntraDS, oidADCapability, 2, false},
		{"an OpenLDAP source counts no disabled users, as its sync marks none", roster.OpenLDAP, "", -1, false},
		{"an AD source on a server that is not AD still counts as its sync would, and is warned", roster.ActiveDirectory, "", 2, true},
	}
	user := func(login string, kv ...string) *goldap.Entry {
		e := &goldap.Entry{DN: "cn=" + login + ",dc=example,dc=test"}
		kv = append(kv, "objectGUID", "0123456789abcdef", "entryUUID", "0f1e2d3c-0000-4000-8000-00000000000"+login[:1],
			"sAMAccountName", login, "uid", login)
		for i := 0; i < len(kv); i += 2 {
			e.Attributes = append(e.Attributes, &goldap.EntryAttribute{Name: kv[i], Values: []string{kv[i+1]}, ByteValues: [][]byte{[]byte(kv[i+1])}})
		}
		return e
	}
	users := []*goldap.Entry{
		user("off", "userAccountControl", "514"),
		user("gone", "userAccountControl", "512", "accountExpires", ticks(now.Add(-time.Hour))),
		user("on", "userAccountControl", "512", "accountExpires", ticks(now.Add(time.Hour))),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fakeDirectory(t, func(n int, id int64, w *fakeWire) bool {
				if n == 1 { // the rootDSE
					w.entryWith(id, "", "supportedCapabilities", tt.server)
					w.done(id, goldap.ApplicationSearchResultDone, 0)
					return false
				}
				for _, e := range users {
					sendEntry(w, id, e)
				}
				w.done(id, goldap.ApplicationSearchResultDone, 0, paging(""))
				return false
			})
			src.Type = tt.typ
			src.BaseDNs = []string{"dc=example,dc=test"}
			s, err := Dialer{Now: func() time.Time { return now }}.Survey(context.Background(), src, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Users != 3 || len(s.Bases) != 1 || s.Bases[0].Users != 3 || s.Bases[0].Pages != 1 {
				t.Errorf("counted %d users, bases %+v; want 3 in one page of one base", s.Users, s.Bases)
			}
			switch {
			case tt.wantDisabled < 0 && s.Disabled != nil:
				t.Errorf("counted %d disabled users, want none counted", *s.Disabled)
			case tt.wantDisabled >= 0 && (s.Disabled == nil || *s.Disabled != tt.wantDisabled):
				t.Errorf("counted %v disabled users, want %d", s.Disabled, tt.wantDisabled)
			}
			warned := false
			for _, w := range s.Warnings {
				warned = warned || strings.Contains(w, "pick the matching directory type")
			}
			if warned != tt.wantWarning {
				t.Errorf("warnings %q; want the type mismatch named: %v", s.Warnings, tt.wantWarning)
			}
			// The same entries, mapped as a sync maps them, are
			// disabled alike.
			d := &Directory{src: src, mapping: src.Mapping.WithDefaults(src.Type), now: func() time.Time { return now }}
			synced := 0
			for _, e := range users {
				rec, why := d.record(newEntry(e))
				if why != "" {
					t.Fatalf("the sync cannot map %s: %s", e.DN, why)
				}
				if rec.Disabled {
					synced++
				}
			}
			counted := 0 // none counted: no record may be disabled either
			if s.Disabled != nil {
				counted = *s.Disabled
			}
			if counted != synced {
				t.Errorf("the survey counts %d disabled, the sync's records %d", counted, synced)
			}
		})
	}
}

// sendEntry sends e with all its attributes.
func sendEntry(w *fakeWire, msgID int64, e *goldap.Entry) {
	w.send(msgID, entryOp(e.DN, e.Attributes...))
}
