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

// Found by FuzzCron: a schedule must never hang Next or panic the parse,
// whatever the clocks of its location do.
func TestCronFuzzFindings(t *testing.T) {
	for spec, want := range map[string]string{
		"0 27/1 1 1 0": "hour field", // starts past 23: allowed no hour, never fired
		"0 24/2 * * *": "hour field",
	} {
		if _, err := roster.ParseCron(spec); roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCron(%q) = %v, want EINVALID naming the %s", spec, err, want)
		}
	}
	huge, err := roster.ParseCron("59/9223372036854775807 * * * *") // overflowed v += step
	if err != nil || huge.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Minute() != 59 {
		t.Errorf("a step past the range: %v", err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	for spec, want := range map[string]string{
		"0 3 * * *":    "2024-03-10 03:00 EDT", // 02:00 does not exist that night: time.Date gave 01:00, before t
		"0 2 * * *":    "2024-03-11 02:00 EDT",
		"30 1 * * *":   "2024-03-10 01:30 EST",
		"*/20 * * * *": "2024-03-10 01:20 EST",
	} {
		c, _ := roster.ParseCron(spec)
		from := time.Date(2024, 3, 10, 1, 5, 0, 0, ny)
		done := make(chan time.Time, 1)
		go func() { done <- c.Next(from) }()
		select {
		case got := <-done:
			if s := got.Format("2006-01-02 15:04 MST"); s != want {
				t.Errorf("%q: Next(%v) = %s, want %s", spec, from, s, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q: Next(%v) never returned", spec, from)
		}
	}
}
