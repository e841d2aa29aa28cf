package ldap

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// MaxValRange is AD's MaxValRange: the most values of one attribute that
// a single read returns. A group with more members must be read in ranges.
const MaxValRange = 1500

// maxRangeSteps bounds range retrieval: 100,000 windows of 1,500 values
// is far more members than AD allows in a group.
const maxRangeSteps = 100_000

// RangeStats says how a multi-valued attribute was read.
type RangeStats struct {
	Steps int // reads made; more than one means range retrieval was needed
}

// Values reads every value of a multi-valued attribute of one entry,
// such as a group's member, using AD range retrieval: it asks for
// member;range=0-1499, then 1500-2999, and so on until the server answers
// with a range that ends in "*". A server that ignores ranges and sends
// the plain attribute is handled too. Windows are MaxValRange values wide,
// so the code is exercised even against servers that would send more.
//
// Errors: as Search; ENOTFOUND when the entry does not exist.
func (c *Conn) Values(ctx context.Context, dn, attr string) ([]string, RangeStats, error) {
	var out []string
	var st RangeStats
	low := 0
	for st.Steps < maxRangeSteps {
		want := fmt.Sprintf("%s;range=%d-%d", attr, low, low+MaxValRange-1)
		e, err := c.Get(ctx, dn, want)
		st.Steps++
		if err != nil {
			return nil, st, err
		}
		if e == nil {
			return nil, st, errNoEntry(dn)
		}
		vals, high, last, found := rangedValues(e, attr)
		if !found && low > 0 {
			// Earlier windows said more values follow: an answer without
			// the attribute is not the end of the list.
			return nil, st, errRangeMissing(dn, attr, low)
		}
		out = append(out, vals...)
		if !found || last {
			return out, st, nil
		}
		if high < low {
			return nil, st, errRangeBackwards(dn, attr, low, high)
		}
		low = high + 1
	}
	return nil, st, errTooManyRangeSteps(dn, attr, maxRangeSteps)
}

// rangedValues finds attr in an entry, either plain ("member") or ranged
// ("member;range=0-1499", "member;range=1500-*"). It returns the values,
// the high end of the range, whether this was the last range, and whether
// the attribute was present at all.
func rangedValues(e *Entry, attr string) (vals []string, high int, last, found bool) {
	for _, name := range e.Names() {
		base, opts, _ := strings.Cut(name, ";")
		if !strings.EqualFold(base, attr) {
			continue
		}
		vals = e.Values(name)
		if opts == "" {
			return vals, 0, true, true // the server ignored the range: this is everything
		}
		r, ok := strings.CutPrefix(strings.ToLower(opts), "range=")
		if !ok {
			continue
		}
		_, hi, _ := strings.Cut(r, "-")
		if hi == "*" {
			return vals, 0, true, true
		}
		n, err := strconv.Atoi(hi)
		if err != nil {
			return vals, 0, true, true
		}
		return vals, n, false, true
	}
	return nil, 0, true, false
}
