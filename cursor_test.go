package roster

import (
	"strings"
	"testing"
)

func TestCursorFollows(t *testing.T) {
	dc1 := Cursor{Kind: CursorUSN, Server: "CN=NTDS Settings,CN=DC1|guid-a", Value: "5000", Scope: "s1"}
	for _, tc := range []struct {
		name  string
		now   Cursor
		since Cursor
		ok    bool
		why   string
	}{
		{"same DC, later USN", Cursor{CursorUSN, dc1.Server, "5100", "s1"}, dc1, true, ""},
		{"same DC, same USN", dc1, dc1, true, ""},
		{"no tracking", Cursor{}, dc1, false, "no change tracking"},
		{"no cursor yet", dc1, Cursor{}, false, "no earlier successful run"},
		{"another DC", Cursor{CursorUSN, "CN=NTDS Settings,CN=DC2|guid-b", "9000", "s1"}, dc1, false, "not the one the last run read"},
		{"restored DC", Cursor{CursorUSN, "CN=NTDS Settings,CN=DC1|guid-c", "5100", "s1"}, dc1, false, "not the one the last run read"},
		{"USN went back", Cursor{CursorUSN, dc1.Server, "4000", "s1"}, dc1, false, "went back (5000 to 4000)"},
		{"scope changed", Cursor{CursorUSN, dc1.Server, "5100", "other"}, dc1, false, "search bases"},
		{"garbage", Cursor{CursorUSN, dc1.Server, "x", "s1"}, dc1, false, "not a number"},
		{"CSN, later", Cursor{CursorCSN, "ol", "20261125210427.000001Z#000000#000#000000", "s1"}, Cursor{CursorCSN, "ol", "20261125210426.123456Z#000000#000#000000", "s1"}, true, ""},
		{"CSN, went back", Cursor{CursorCSN, "ol", "20261125200000.000000Z#000000#000#000000", "s1"}, Cursor{CursorCSN, "ol", "20261125210426.123456Z#000000#000#000000", "s1"}, false, "went back"},
		{"CSN, garbage", Cursor{CursorCSN, "ol", "20261125210426Z", "s1"}, Cursor{CursorCSN, "ol", "20261125210426.123456Z#000000#000#000000", "s1"}, false, "not a change sequence number"},
		{"time, later", Cursor{CursorTime, "modifyTimestamp", "20261125211500Z", "s1"}, Cursor{CursorTime, "modifyTimestamp", "20261125210500Z", "s1"}, true, ""},
		{"time, clock went back", Cursor{CursorTime, "modifyTimestamp", "20261125200000Z", "s1"}, Cursor{CursorTime, "modifyTimestamp", "20261125210500Z", "s1"}, false, "clock went back"},
		{"time, garbage", Cursor{CursorTime, "modifyTimestamp", "2026-11-25", "s1"}, Cursor{CursorTime, "modifyTimestamp", "20261125210500Z", "s1"}, false, "not a time"},
		{"CSN then time (syncprov removed)", Cursor{CursorTime, "modifyTimestamp", "20261125211500Z", "s1"}, Cursor{CursorCSN, "ol", "20261125210426.123456Z#000000#000#000000", "s1"}, false, "kind of change tracking"},
		{"USN then CSN", Cursor{CursorCSN, dc1.Server, "20261125210426.123456Z#000000#000#000000", "s1"}, dc1, false, "kind of change tracking"},
	} {
		ok, why := tc.now.Follows(tc.since)
		if ok != tc.ok || (tc.why != "" && !strings.Contains(why, tc.why)) || (tc.ok && why != "") {
			t.Errorf("%s: Follows = %v %q, want %v containing %q", tc.name, ok, why, tc.ok, tc.why)
		}
	}
}

func TestScopeKeyFollowsTheSettingsThatPickEntries(t *testing.T) {
	a := &Source{Type: ActiveDirectory, Domain: "corp.test", Address: "10.0.0.4"}
	b := *a
	b.Address = "10.0.0.5" // another DC: the cursor's Server tells
	if ScopeKey(a) != ScopeKey(&b) {
		t.Error("the address changed the scope")
	}
	b.BaseDNs = []string{"OU=Staff,DC=corp,DC=test"}
	if ScopeKey(a) == ScopeKey(&b) {
		t.Error("a new base DN kept the scope")
	}
	c := *a
	c.UserFilter = "(department=IT)"
	if ScopeKey(a) == ScopeKey(&c) {
		t.Error("a new filter kept the scope")
	}
}
