package roster

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a schedule in the five-field cron syntax admins know from
// crontab: minute, hour, day of month, month, day of week. Each field is
// *, a number, a range a-b, a list a,b,c, or a step */n or a-b/n. The
// shorthands @hourly, @daily (also @nightly, at 02:00) and @weekly work
// too. Days of week run 0 (Sunday) to 6; 7 is Sunday too.
type Cron struct {
	spec                          string
	minute, hour, dom, month, dow uint64 // bit i set: value i allowed
	domAny, dowAny                bool
}

// shorthands maps the @ forms to their five fields.
var shorthands = map[string]string{
	"@hourly":  "0 * * * *",
	"@daily":   "0 0 * * *",
	"@nightly": "0 2 * * *",
	"@weekly":  "0 0 * * 0",
}

// ParseCron reads a schedule.
//
// Errors: EINVALID naming the field that is wrong.
func ParseCron(spec string) (*Cron, error) {
	s := strings.TrimSpace(spec)
	if full, ok := shorthands[strings.ToLower(s)]; ok {
		s = full
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return nil, Errorf(EINVALID, "the schedule %q needs five fields (minute hour day month weekday), such as \"0 2 * * *\" for 02:00 every night", spec)
	}
	c := &Cron{spec: spec, domAny: f[2] == "*", dowAny: f[4] == "*"}
	fields := []struct {
		name     string
		dst      *uint64
		min, max int
	}{
		{"minute", &c.minute, 0, 59}, {"hour", &c.hour, 0, 23}, {"day of month", &c.dom, 1, 31},
		{"month", &c.month, 1, 12}, {"day of week", &c.dow, 0, 7},
	}
	for i, fd := range fields {
		bits, err := parseCronField(f[i], fd.min, fd.max)
		if err != nil {
			return nil, Errorf(EINVALID, "the %s field %q of the schedule %q: %v", fd.name, f[i], spec, err)
		}
		*fd.dst = bits
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday, like 0
	}
	return c, nil
}

func parseCronField(s string, min, max int) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("the step %q is not a positive number", stepText)
			}
			// A step past the field's range allows its start alone; kept
			// within it, v += step below cannot overflow (59/9223372036854775807
			// wrapped v negative, and 1<<v panicked).
			step = n
			if step > max-min {
				step = max - min + 1
			}
		}
		lo, hi := min, max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err1, err2 error
			lo, err1 = strconv.Atoi(a)
			hi, err2 = strconv.Atoi(b)
			if err1 != nil || err2 != nil || lo > hi {
				return 0, fmt.Errorf("%q is not a range such as 1-5", rng)
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return 0, fmt.Errorf("%q is not a number", rng)
			}
			lo, hi = n, n
			if hasStep {
				hi = max
			}
		}
		// lo > max too: 27/1 in the hour field starts past it, and gave a
		// field that allows no hour at all, a schedule that never fires.
		if lo < min || hi > max || lo > max {
			return 0, fmt.Errorf("values must be from %d to %d", min, max)
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

// String returns the schedule as written.
func (c *Cron) String() string { return c.spec }

// Next returns the first minute strictly after t that the schedule
// allows, in t's location, or the zero time when none comes within five
// years (a schedule such as "0 0 31 2 *" never fires).
func (c *Cron) Next(t time.Time) time.Time {
	// The next minute of t's clock. (Truncate cuts in absolute time, off
	// the minute of a clock whose offset has seconds.)
	t = t.Add(-time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond())).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		var next time.Time
		switch {
		case c.month&(1<<uint(t.Month())) == 0:
			next = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, t.Location())
		case !c.dayMatches(t):
			next = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
		case c.hour&(1<<uint(t.Hour())) == 0:
			// The rest of the hour, in absolute time: time.Date of the
			// next hour may lie before t when the clocks skip it (02:00
			// on the night New York's go forward is 01:00 EST), and then
			// Next never returned. Every minute passed over is of this
			// hour, whatever the clocks do.
			next = t.Add(time.Duration(60-t.Minute()) * time.Minute)
		case c.minute&(1<<uint(t.Minute())) == 0:
			next = t.Add(time.Minute)
		default:
			return t
		}
		if !next.After(t) {
			// time.Date put a midnight the clocks skip before t (São
			// Paulo's 4 November 2018 began at 01:00, and its midnight
			// is 23:00 the day before; Apia skipped 30 December 2011
			// whole): go a minute at a time until the clocks have changed.
			next = t.Add(time.Minute)
		}
		t = next
	}
	return time.Time{}
}

// dayMatches follows cron: when both day fields are restricted, either
// one matching is enough.
func (c *Cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}
