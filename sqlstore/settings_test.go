package sqlstore

import (
	"testing"

	"github.com/rosterhq/roster"
)

// A row the API stored before step 012 with a disabled_users the engine
// read as keep opens as keep, instead of failing the list of sources.
func TestDecodeSettingsReadsAnUncheckedDisabledUsersAsKeep(t *testing.T) {
	for stored, want := range map[string]roster.DisabledUsers{"none": roster.KeepDisabled, "": roster.KeepDisabled, "skip": roster.SkipDisabled, "SKIP": roster.SkipDisabled} {
		src, err := decodeSettings(3, `{"name":"corp","type":"ad","address":"dc.corp.test","domain":"corp.test","login":"svc","disabled_users":"`+stored+`"}`)
		if err != nil || src.DisabledUsers != want || src.ID != 3 {
			t.Errorf("disabled_users %q opens as %+v, %v; want %s", stored, src, err, want)
		}
	}
}
