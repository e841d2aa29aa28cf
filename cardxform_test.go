package roster

import (
	"strconv"
	"strings"
	"testing"
)

func TestCardStepsEachDoWhatTheySay(t *testing.T) {
	tests := []struct {
		step    string
		in, out string
		err     string // part of the refusal; "" when it passes
	}{
		{"extract=^W26:([0-9]+)$", "W26:0012345", "0012345", ""},
		{"extract=[0-9A-F]{8}", "uid 04A1B2C3 seen", "04A1B2C3", ""},
		{"extract=^([0-9]+)$", "abc", "", "does not match"},
		{"extract=^FAC([0-9]+)?", "FACabc", "", "nothing is left"}, // an optional group that matched nothing
		{"strip-zeros", "", "", "nothing is left"},
		{"hex-to-dec", "C3B2A104", "3283263748", ""},
		{"hex-to-dec", "c3b2a104", "3283263748", ""},
		{"hex-to-dec", "FFFFFFFFFFFFFFFFFF", "4722366482869645213695", ""}, // longer than 64 bits
		{"hex-to-dec", "12G4", "", "not hexadecimal"},
		{"hex-to-dec", "-1F", "", "not hexadecimal"},
		{"dec-to-hex", "3283263748", "C3B2A104", ""},
		{"dec-to-hex", "255", "FF", ""},
		{"dec-to-hex", "4095", "0FFF", ""}, // whole bytes
		{"dec-to-hex", "12a", "", "not a decimal"},
		{"reverse-bytes", "04A1B2C3", "C3B2A104", ""},
		{"reverse-bytes", "4a1b2c3", "C3B2A104", ""}, // an odd length gains a leading zero
		{"reverse-bytes", "04:A1", "", "not hexadecimal"},
		{"strip-zeros", "0001234567", "1234567", ""},
		{"strip-zeros", "0000", "0", ""},
		{"pad=10", "1234567", "0001234567", ""},
		{"pad=4", "1234567", "1234567", ""},
		{"add-facility=123", "45678", "12345678", ""},
		{"remove-facility=3", "12345678", "45678", ""},
		{"remove-facility=3", "123", "", "not longer"},
		{"upper", "c3b2a104", "C3B2A104", ""},
		{"lower", "C3B2A104", "c3b2a104", ""},
	}
	for _, tt := range tests {
		t.Run(tt.step+" "+tt.in, func(t *testing.T) {
			s, err := ParseCardStep(tt.step)
			if err != nil {
				t.Fatalf("ParseCardStep(%q): %v", tt.step, err)
			}
			out, err := CardPipeline{s}.Apply(tt.in)
			switch {
			case tt.err == "" && (err != nil || out != tt.out):
				t.Errorf("%s on %q = %q, %v; want %q", tt.step, tt.in, out, err, tt.out)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("%s on %q = %q, %v; want an error with %q", tt.step, tt.in, out, err, tt.err)
			}
		})
	}
}

// A reader that sends a Mifare UID least significant byte first, in
// decimal, with ten digits: the directory holds the UID as printed.
func TestCardPipelineChainsAndTraces(t *testing.T) {
	var p CardPipeline
	for _, s := range []string{"extract=([0-9A-Fa-f]{8})", "reverse-bytes", "hex-to-dec", "pad=10"} {
		st, err := ParseCardStep(s)
		if err != nil {
			t.Fatal(err)
		}
		p = append(p, st)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply("UID 04A1B2C3")
	if err != nil || out != "3283263748" {
		t.Fatalf("Apply = %q, %v", out, err)
	}
	tr := p.Trace("UID 04A1B2C3")
	want := []string{"04A1B2C3", "C3B2A104", "3283263748", "3283263748"}
	if len(tr) != len(want) {
		t.Fatalf("trace %+v", tr)
	}
	for i, w := range want {
		if tr[i].Out != w || tr[i].Err != "" {
			t.Errorf("step %d (%s): %q %q, want %q", i+1, tr[i].Step, tr[i].Out, tr[i].Err, w)
		}
	}
	// A refusal stops the trace at its step and names it.
	tr = p.Trace("no card here")
	if len(tr) != 1 || tr[0].Err == "" {
		t.Fatalf("trace of a bad value: %+v", tr)
	}
	if _, err := p.Apply("no card here"); err == nil || !strings.Contains(err.Error(), "step 1 (extract=") {
		t.Fatalf("Apply of a bad value: %v", err)
	}
	if out, err := (CardPipeline{}).Apply("0042"); err != nil || out != "0042" {
		t.Fatalf("an empty pipeline changed the value: %q %v", out, err)
	}
}

func TestCardPipelineValidate(t *testing.T) {
	tests := []struct {
		p    CardPipeline
		want string
	}{
		{CardPipeline{{Op: "rot13"}}, "not a step"},
		{CardPipeline{{Op: CardPad}}, "needs its width"},
		{CardPipeline{{Op: CardPad, Arg: "x"}}, "not a number"},
		{CardPipeline{{Op: CardPad, Arg: "99"}}, "not a number from 1 to 64"},
		{CardPipeline{{Op: CardUpper, Arg: "1"}}, "takes no argument"},
		{CardPipeline{{Op: CardExtract, Arg: "("}}, "does not compile"},
		// Found by FuzzCardStep: these did not survive being written as text.
		{CardPipeline{{Op: CardExtract, Arg: " "}}, "ends in white space"},
		{CardPipeline{{Op: CardExtract, Arg: "[0-9]+\n"}}, "control character"},
		{CardPipeline{{Op: CardAddFacility, Arg: "12-3"}}, "only letters and digits"},
		{make(CardPipeline, MaxCardSteps+1), "at most"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%v) = %v, want EINVALID with %q", tt.p, err, tt.want)
		}
	}
}

// The cache of compiled expressions stays bounded, whatever the test
// bench is sent.
func TestCardPatternCacheIsBounded(t *testing.T) {
	for i := range 3 * maxPatterns {
		p := CardPipeline{{Op: CardExtract, Arg: "^" + strings.Repeat("x", i%7) + "([0-9]+)" + strconv.Itoa(i)}}
		if _, err := p.Apply("x1" + strconv.Itoa(i)); err != nil && ErrorCode(err) != EINVALID {
			t.Fatal(err)
		}
	}
	n := 0
	patterns.Range(func(any, any) bool { n++; return true })
	if n > maxPatterns {
		t.Fatalf("the cache holds %d expressions, more than %d", n, maxPatterns)
	}
}
