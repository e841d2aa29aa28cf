package ldap

import (
	"strconv"
	"testing"
	"time"
)

func TestGUIDStringSwapsTheFirstThreeGroups(t *testing.T) {
	b := []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}
	if got, want := GUIDString(b), "03020100-0504-0706-0809-0a0b0c0d0e0f"; got != want {
		t.Fatalf("GUIDString() = %s, want %s", got, want)
	}
	if GUIDString(b[:15]) != "" {
		t.Fatal("a short GUID gave a string")
	}
}

func TestADDisabled(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	ticks := func(t time.Time) string { return itoa(t.UnixNano()/100 + 116444736000000000) }
	tests := []struct {
		name, uac, expires string
		want               bool
	}{
		{"a normal account", "512", "0", false},
		{"the disable bit", "514", "0", true},
		{"never expires (max int64)", "512", "9223372036854775807", false},
		{"expired yesterday", "512", ticks(now.Add(-24 * time.Hour)), true},
		{"expires tomorrow", "512", ticks(now.Add(24 * time.Hour)), false},
		{"expires in the year 9999, beyond int64 nanoseconds", "512", "2650467743990000000", false},
		{"no attributes", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := adDisabled(tt.uac, tt.expires, now); got != tt.want {
				t.Fatalf("adDisabled(%q, %q) = %v, want %v", tt.uac, tt.expires, got, tt.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
