package roster

import (
	"encoding/json"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cardSeeds are the steps and values of the table tests.
var cardSeeds = []struct{ steps, value string }{
	{"extract=^W26:([0-9]+)$", "W26:0012345"},
	{"extract=[0-9A-F]{8}", "uid 04A1B2C3 seen"},
	{"extract=^([0-9]+)$", "abc"},
	{"extract=^FAC([0-9]+)?", "FACabc"},
	{"strip-zeros", ""},
	{"hex-to-dec", "C3B2A104"},
	{"hex-to-dec", "FFFFFFFFFFFFFFFFFF"},
	{"hex-to-dec", "-1F"},
	{"dec-to-hex", "4095"},
	{"dec-to-hex", "12a"},
	{"reverse-bytes", "4a1b2c3"},
	{"reverse-bytes", "04:A1"},
	{"strip-zeros", "0000"},
	{"pad=10", "1234567"},
	{"add-facility=123", "45678"},
	{"remove-facility=3", "123"},
	{"upper", "c3b2a104"},
	{"lower", "C3B2A104"},
	{"extract=([0-9A-Fa-f]{8})\nreverse-bytes\nhex-to-dec\npad=10", "UID 04A1B2C3"},
	{"rot13", "1"},
	{"pad", "1"},
	{"pad=99", "1"},
	{"upper=1", "1"},
	{"extract=(", "1"},
	{"add-facility=12-3", "1"},
}

// FuzzCardTransform reads a pipeline as the console and the command line
// give it, one step a line, and runs it on a value.
func FuzzCardTransform(f *testing.F) {
	for _, s := range cardSeeds {
		f.Add(s.steps, s.value)
	}
	f.Fuzz(func(t *testing.T, spec, value string) {
		var p CardPipeline
		for _, line := range strings.Split(spec, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			st, err := ParseCardStep(line)
			if err != nil {
				if ErrorCode(err) != EINVALID {
					t.Fatalf("ParseCardStep(%q) = %v, want EINVALID", line, err)
				}
				return
			}
			p = append(p, st)
		}
		checkPipeline(t, p, value)
	})
}

// FuzzCardStep takes a step as the API's JSON gives it, op and arg
// apart, as a stored source holds it.
func FuzzCardStep(f *testing.F) {
	for _, s := range cardSeeds {
		op, arg, _ := strings.Cut(strings.SplitN(s.steps, "\n", 2)[0], "=")
		f.Add(op, arg, s.value)
	}
	f.Fuzz(func(t *testing.T, op, arg, value string) {
		checkPipeline(t, CardPipeline{{Op: CardOp(op), Arg: arg}}, value)
	})
}

// checkPipeline checks what every valid pipeline promises on value.
func checkPipeline(t *testing.T, p CardPipeline, value string) {
	t.Helper()
	if err := p.Validate(); err != nil {
		if ErrorCode(err) != EINVALID {
			t.Fatalf("Validate(%v) = %v, want EINVALID", p, err)
		}
		return
	}
	// A valid step reads back from its written form (String), as the
	// console and the command line show it: one a line, trimmed.
	for _, s := range p {
		text := s.String()
		if strings.ContainsAny(text, "\r\n") {
			t.Fatalf("the step %#v is written on more than one line: %q", s, text)
		}
		back, err := ParseCardStep(text)
		if err != nil || back != s {
			t.Fatalf("the step %#v, written %q, reads back as %#v, %v", s, text, back, err)
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var again CardPipeline
	if err := json.Unmarshal(b, &again); err != nil || !slices.Equal(again, p) || again.Validate() != nil {
		t.Fatalf("the pipeline %v does not survive JSON %s: %v %v", p, b, again, err)
	}

	out, err := p.Apply(value)
	trace := p.Trace(value)
	if err != nil {
		if ErrorCode(err) != EINVALID {
			t.Fatalf("Apply(%q) = %v, want EINVALID", value, err)
		}
		if len(trace) == 0 || len(trace) > len(p) || trace[len(trace)-1].Err == "" {
			t.Fatalf("Apply(%q) refused it (%v), but the trace does not end in a refusal: %+v", value, err, trace)
		}
		return
	}
	if len(trace) != len(p) {
		t.Fatalf("Apply(%q) = %q, but the trace has %d steps of %d: %+v", value, out, len(trace), len(p), trace)
	}
	if len(p) > 0 && (out == "" || trace[len(p)-1].Out != out) {
		t.Fatalf("Apply(%q) = %q, the trace ends in %+v", value, out, trace[len(p)-1])
	}
	if again, _ := p.Apply(value); again != out {
		t.Fatalf("Apply(%q) gave %q, then %q", value, out, again)
	}
	in := value
	for i, tr := range trace {
		if tr.Err != "" {
			t.Fatalf("step %d refused %q in the trace, Apply did not", i+1, in)
		}
		checkStep(t, p[i], in, tr.Out)
		in = tr.Out
	}
}

// checkStep checks one step's output against what its doc says.
func checkStep(t *testing.T, s CardStep, in, out string) {
	t.Helper()
	fail := func(why string) { t.Fatalf("%s on %q gave %q: %s", s, in, out, why) }
	num := func(v string, base int) *big.Int {
		n, ok := new(big.Int).SetString(v, base)
		if !ok {
			fail(v + " is not a number in base " + strconv.Itoa(base))
		}
		return n
	}
	switch s.Op {
	case CardHexToDec:
		if strings.Trim(out, "0123456789") != "" || num(out, 10).Cmp(num(in, 16)) != 0 {
			fail("not the same number in decimal")
		}
	case CardDecToHex:
		if len(out)%2 != 0 || strings.Trim(out, "0123456789ABCDEF") != "" || num(out, 16).Cmp(num(in, 10)) != 0 {
			fail("not the same number in whole bytes of upper-case hexadecimal")
		}
	case CardReverseBytes:
		padded := strings.ToUpper(in)
		if len(padded)%2 == 1 {
			padded = "0" + padded
		}
		back := CardStep{Op: CardReverseBytes}
		if twice, err := back.apply(out); len(out) != len(padded) || err != nil || twice != padded {
			fail("reversing it again does not give the input back")
		}
	case CardStripZeros:
		if strings.TrimLeft(out, "0") != strings.TrimLeft(in, "0") || out != "0" && strings.HasPrefix(out, "0") {
			fail("not the input without its leading zeros")
		}
	case CardPad:
		w, _ := strconv.Atoi(s.Arg)
		if !strings.HasSuffix(out, in) || strings.Trim(out[:len(out)-len(in)], "0") != "" || len(out) < w {
			fail("not the input padded with zeros")
		}
	case CardAddFacility:
		if out != s.Arg+in {
			fail("not the facility code and the input")
		}
	case CardRemoveFacility:
		w, _ := strconv.Atoi(s.Arg)
		if len(in) <= w || in[w:] != out {
			fail("not the input without its facility code")
		}
	case CardUpper:
		if out != strings.ToUpper(in) {
			fail("not in upper case")
		}
	case CardLower:
		if out != strings.ToLower(in) {
			fail("not in lower case")
		}
	case CardExtract:
		if !strings.Contains(in, out) {
			fail("not a part of the input")
		}
	}
}
