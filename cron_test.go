package roster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func TestCronNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04 Mon", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	from := at("2026-11-25 20:47 Wed")
	tests := []struct {
		spec, want string
	}{
		{"0 2 * * *", "2026-11-26 02:00 Thu"},
		{"@nightly", "2026-11-26 02:00 Thu"},
		{"@hourly", "2026-11-25 21:00 Wed"},
		{"*/15 * * * *", "2026-11-25 21:00 Wed"},
		{"5,50 * * * *", "2026-11-25 20:50 Wed"},
		{"0 9-17/4 * * 1-5", "2026-11-26 09:00 Thu"},
		{"30 6 * * 0", "2026-11-29 06:30 Sun"},
		{"30 6 * * 7", "2026-11-29 06:30 Sun"},
		{"0 0 1 1 *", "2027-01-01 00:00 Fri"},
		{"0 0 29 2 *", "2028-02-29 00:00 Tue"},
		{"0 12 1 * 1", "2026-11-30 12:00 Mon"},  // day of month OR day of week
		{"47 20 * * *", "2026-11-26 20:47 Thu"}, // strictly after
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			c, err := roster.ParseCron(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Next(from).Format("2006-01-02 15:04 Mon"); got != tt.want {
				t.Fatalf("Next(%s) = %s, want %s", from.Format("2006-01-02 15:04"), got, tt.want)
			}
		})
	}
	never, _ := roster.ParseCron("0 0 31 2 *")
	if !never.Next(from).IsZero() {
		t.Error("February 31st fired")
	}
}

func TestCronRefusesBadSchedules(t *testing.T) {
	for spec, want := range map[string]string{
		"":             "five fields",
		"0 2 * *":      "five fields",
		"60 * * * *":   "minute field",
		"0 24 * * *":   "hour field",
		"0 0 0 * *":    "day of month field",
		"0 0 * 13 *":   "month field",
		"0 0 * * 8":    "day of week field",
		"*/0 * * * *":  "positive number",
		"5-1 * * * *":  "range",
		"a * * * *":    "not a number",
		"@fortnightly": "five fields",
	} {
		_, err := roster.ParseCron(spec)
		if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCron(%q) = %v, want EINVALID mentioning %q", spec, err, want)
		}
	}
}
