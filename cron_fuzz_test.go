package roster

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has installed
)

// cronZones are places whose clocks change in awkward ways: an hour
// skipped at 02:00 (New York) or at midnight (São Paulo until 2019),
// half an hour (Lord Howe), a whole day (Apia, December 2011), and
// offsets that are not whole hours.
var cronZones = []string{
	"UTC", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Apia",
	"Asia/Kathmandu", "Europe/Paris", "Pacific/Chatham", "America/St_Johns", "Asia/Tehran",
	"Africa/Casablanca", "Antarctica/Troll",
}

// matches reports whether the schedule allows the minute t starts.
func (c *Cron) matches(t time.Time) bool {
	return c.month&(1<<uint(t.Month())) != 0 && c.dayMatches(t) &&
		c.hour&(1<<uint(t.Hour())) != 0 && c.minute&(1<<uint(t.Minute())) != 0
}

func FuzzCron(f *testing.F) {
	// The specs of the table tests, from the two days around clock changes.
	nyForward := time.Date(2024, 3, 9, 3, 0, 0, 0, time.UTC).Unix()
	for i, spec := range []string{
		"0 2 * * *", "@nightly", "@hourly", "@daily", "@weekly", "*/15 * * * *", "5,50 * * * *", "0 9-17/4 * * 1-5",
		"30 6 * * 0", "30 6 * * 7", "0 0 1 1 *", "0 0 29 2 *", "0 12 1 * 1", "47 20 * * *", "0 0 31 2 *", "0 3 * * *",
		"", "0 2 * *", "60 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "*/0 * * * *", "5-1 * * * *",
		"a * * * *", "@fortnightly", "59/100 * * * *",
	} {
		f.Add(spec, nyForward+int64(i)*3607, uint8(i))
	}
	f.Fuzz(func(t *testing.T, spec string, unix int64, zone uint8) {
		c, err := ParseCron(spec)
		if err != nil {
			if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "schedule") {
				t.Fatalf("ParseCron(%q) = %v, want EINVALID naming the schedule", spec, err)
			}
			return
		}
		if c.String() != spec {
			t.Errorf("ParseCron(%q).String() = %q", spec, c.String())
		}
		if c.minute == 0 || c.hour == 0 || c.dom == 0 || c.month == 0 || c.dow == 0 {
			t.Fatalf("ParseCron(%q) left a field allowing nothing: %+v", spec, c)
		}
		loc, err := time.LoadLocation(cronZones[int(zone)%len(cronZones)])
		if err != nil {
			t.Fatal(err)
		}
		// 1970 to about 2100, with seconds: a scheduler asks at any moment.
		from := time.Unix(int64(uint64(unix)%(130*365*86400)), int64(uint64(unix)%1e9)).In(loc)
		next := c.Next(from)
		if next.IsZero() {
			// Never within five years: only when no month has the day.
			if c.dowAny && c.dom&^(1<<31|1<<30) != 0 && c.month != 0 {
				t.Errorf("%q never fires after %v, though it names a day every month has", spec, from)
			}
			return
		}
		if !next.After(from) {
			t.Fatalf("%q: Next(%v) = %v, not after it", spec, from, next)
		}
		if next.After(from.AddDate(5, 0, 1)) {
			t.Fatalf("%q: Next(%v) = %v, beyond five years", spec, from, next)
		}
		if next.Location() != loc {
			t.Errorf("%q: Next(%v) is in %v, not in the given location", spec, from, next.Location())
		}
		if next.Second() != 0 || next.Nanosecond() != 0 {
			t.Errorf("%q: Next(%v) = %v, not the start of a minute", spec, from, next)
		}
		if !c.matches(next) {
			t.Errorf("%q: Next(%v) = %v, which the schedule does not allow", spec, from, next)
		}
		// No allowed minute comes between (checked over two days at most).
		start := from.Add(-time.Duration(from.Second())*time.Second - time.Duration(from.Nanosecond())).Add(time.Minute)
		for m := start; m.Before(next) && m.Before(from.Add(48*time.Hour)); m = m.Add(time.Minute) {
			if c.matches(m) {
				t.Fatalf("%q: Next(%v) = %v, but %v comes first", spec, from, next, m)
			}
		}
	})
}
