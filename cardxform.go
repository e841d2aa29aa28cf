package roster

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// CardOp is one kind of step in a card transform pipeline. Badge readers
// report the same card in many forms: hex or decimal, either byte order,
// with or without leading zeros or a facility code. A source's pipeline
// turns what its directory holds into what its readers send.
type CardOp string

const (
	// CardExtract keeps what the regular expression Arg matches: its
	// first group when it has one, else the whole match.
	CardExtract CardOp = "extract"
	// CardHexToDec reads hexadecimal and writes decimal (any length).
	CardHexToDec CardOp = "hex-to-dec"
	// CardDecToHex reads decimal and writes upper-case hexadecimal, in
	// whole bytes (an even number of digits).
	CardDecToHex CardOp = "dec-to-hex"
	// CardReverseBytes reverses the byte order of a hexadecimal value:
	// 04A1B2C3 becomes C3B2A104 (readers that send a UID LSB first).
	CardReverseBytes CardOp = "reverse-bytes"
	// CardStripZeros drops leading zeros (one zero stays for zero).
	CardStripZeros CardOp = "strip-zeros"
	// CardPad left-pads with zeros to Arg characters; longer values
	// stay as they are.
	CardPad CardOp = "pad"
	// CardAddFacility puts the facility code Arg in front of the number.
	CardAddFacility CardOp = "add-facility"
	// CardRemoveFacility drops the first Arg characters, a facility code
	// of that width.
	CardRemoveFacility CardOp = "remove-facility"
	CardUpper          CardOp = "upper"
	CardLower          CardOp = "lower"
)

// CardOps lists the steps a pipeline may use, with what Arg means, for
// help texts and the console.
var CardOps = []struct {
	Op  CardOp
	Arg string // "" when the step takes none
	Doc string
}{
	{CardExtract, "regexp", "keep what the expression matches (its first group, if any)"},
	{CardHexToDec, "", "hexadecimal to decimal"},
	{CardDecToHex, "", "decimal to hexadecimal, in whole bytes"},
	{CardReverseBytes, "", "reverse the byte order of a hexadecimal value"},
	{CardStripZeros, "", "drop leading zeros"},
	{CardPad, "width", "left-pad with zeros to this width"},
	{CardAddFacility, "code", "put a facility code in front"},
	{CardRemoveFacility, "width", "drop a facility code of this many leading characters"},
	{CardUpper, "", "upper case"},
	{CardLower, "", "lower case"},
}

// MaxCardSteps bounds a pipeline's length.
const MaxCardSteps = 20

// CardStep is one step of a pipeline.
type CardStep struct {
	Op  CardOp `json:"op"`
	Arg string `json:"arg,omitempty"`
}

// String gives the step in the form ParseCardStep reads: "op" or "op=arg".
func (s CardStep) String() string {
	if s.Arg == "" {
		return string(s.Op)
	}
	return string(s.Op) + "=" + s.Arg
}

// ParseCardStep reads "op" or "op=arg", as the command line gives steps.
func ParseCardStep(s string) (CardStep, error) {
	op, arg, _ := strings.Cut(strings.TrimSpace(s), "=")
	st := CardStep{Op: CardOp(strings.TrimSpace(op)), Arg: arg}
	return st, st.validate(0)
}

// CardPipeline is a source's card transform: steps applied in order to
// every card value read from the directory.
type CardPipeline []CardStep

// Validate checks every step and its argument.
func (p CardPipeline) Validate() error {
	if len(p) > MaxCardSteps {
		return Errorf(EINVALID, "the card transform has %d steps; at most %d are allowed", len(p), MaxCardSteps)
	}
	for i, s := range p {
		if err := s.validate(i + 1); err != nil {
			return err
		}
	}
	return nil
}

func (s CardStep) validate(n int) error {
	where := "card transform step"
	if n > 0 {
		where = fmt.Sprintf("card transform step %d", n)
	}
	known := false
	for _, o := range CardOps {
		if o.Op == s.Op {
			known = true
			if o.Arg == "" && s.Arg != "" {
				return Errorf(EINVALID, "%s (%s) takes no argument, and was given %q", where, s.Op, s.Arg)
			}
			if o.Arg != "" && s.Arg == "" {
				return Errorf(EINVALID, "%s (%s) needs its %s: write it as %s=…", where, s.Op, o.Arg, s.Op)
			}
		}
	}
	if !known {
		names := make([]string, len(CardOps))
		for i, o := range CardOps {
			names[i] = string(o.Op)
		}
		return Errorf(EINVALID, "%s: %q is not a step; the steps are %s", where, s.Op, strings.Join(names, ", "))
	}
	switch s.Op {
	case CardExtract:
		// A step is shown and edited as one line of text (String, the
		// console's textarea, -step), which ends at a line break and is
		// trimmed: an expression holding a control character or ending
		// in white space changed when saved again ("extract= " came back
		// as "extract", refused). Regexp syntax has \n, \t and \x20.
		if strings.ContainsFunc(s.Arg, unicode.IsControl) || strings.TrimRightFunc(s.Arg, unicode.IsSpace) != s.Arg {
			return Errorf(EINVALID, "%s (extract): the expression %q holds a control character or ends in white space, which the step written as a line of text loses; write them as \\n, \\t or \\x20", where, s.Arg)
		}
		if _, err := regexp.Compile(s.Arg); err != nil {
			return Errorf(EINVALID, "%s (extract): the expression %q does not compile: %v", where, s.Arg, err)
		}
	case CardPad, CardRemoveFacility:
		if w, err := strconv.Atoi(s.Arg); err != nil || w < 1 || w > 64 {
			return Errorf(EINVALID, "%s (%s): the width %q is not a number from 1 to 64", where, s.Op, s.Arg)
		}
	case CardAddFacility:
		if strings.TrimFunc(s.Arg, isAlnum) != "" {
			return Errorf(EINVALID, "%s (add-facility): the code %q may hold only letters and digits", where, s.Arg)
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// CardTrace is one step's outcome on one value, for the test bench.
type CardTrace struct {
	Step CardStep `json:"step"`
	Out  string   `json:"out,omitempty"`
	Err  string   `json:"error,omitempty"` // the value stops here
}

// Apply runs the pipeline on v. The error says which step refused which
// value, and why.
func (p CardPipeline) Apply(v string) (string, error) {
	for i, s := range p {
		out, err := s.apply(v)
		if err != nil {
			return "", Errorf(EINVALID, "card %q: step %d (%s): %s", v, i+1, s, err.Error())
		}
		v = out
	}
	return v, nil
}

// Trace runs the pipeline on v and returns every step's output, up to
// the first step that refuses it.
func (p CardPipeline) Trace(v string) []CardTrace {
	out := make([]CardTrace, 0, len(p))
	for _, s := range p {
		next, err := s.apply(v)
		if err != nil {
			return append(out, CardTrace{Step: s, Err: err.Error()})
		}
		out = append(out, CardTrace{Step: s, Out: next})
		v = next
	}
	return out
}

// apply runs one valid step. A step that leaves nothing refuses the
// value: an empty card padded further would give every such user the
// same number.
func (s CardStep) apply(v string) (string, error) {
	out, err := s.run(v)
	if err == nil && out == "" {
		err = fmt.Errorf("nothing is left of %q", v)
	}
	return out, err
}

// patterns caches the compiled expressions of extract steps: a sync
// applies the same few to every card. It is emptied when it holds
// maxPatterns: the card test bench (POST /api/v1/cards/test) compiles
// whatever expression it is sent, and a cache that only grew kept every
// one for the life of the server (seen fuzzing the card steps).
var (
	patterns     sync.Map // string -> *regexp.Regexp
	patternCount atomic.Int64
)

const maxPatterns = 256

func compiled(expr string) (*regexp.Regexp, error) {
	if re, ok := patterns.Load(expr); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(expr)
	if err == nil {
		if patternCount.Add(1) > maxPatterns {
			patterns.Clear()
			patternCount.Store(1)
		}
		patterns.Store(expr, re)
	}
	return re, err
}

func (s CardStep) run(v string) (string, error) {
	switch s.Op {
	case CardExtract:
		re, err := compiled(s.Arg)
		if err != nil {
			return "", err
		}
		m := re.FindStringSubmatch(v)
		switch {
		case m == nil:
			return "", fmt.Errorf("%q does not match %s", v, s.Arg)
		case len(m) > 1:
			return m[1], nil
		}
		return m[0], nil
	case CardHexToDec:
		n, ok := new(big.Int).SetString(v, 16)
		if !ok || v == "" || strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+") {
			return "", fmt.Errorf("%q is not hexadecimal", v)
		}
		return n.String(), nil
	case CardDecToHex:
		n, ok := new(big.Int).SetString(v, 10)
		if !ok || v == "" || strings.HasPrefix(v, "-") || strings.HasPrefix(v, "+") {
			return "", fmt.Errorf("%q is not a decimal number", v)
		}
		h := strings.ToUpper(n.Text(16))
		if len(h)%2 == 1 {
			h = "0" + h
		}
		return h, nil
	case CardReverseBytes:
		if v == "" || strings.TrimFunc(v, isHex) != "" {
			return "", fmt.Errorf("%q is not hexadecimal", v)
		}
		if len(v)%2 == 1 {
			v = "0" + v
		}
		b := make([]byte, 0, len(v))
		for i := len(v) - 2; i >= 0; i -= 2 {
			b = append(b, v[i], v[i+1])
		}
		return strings.ToUpper(string(b)), nil
	case CardStripZeros:
		if t := strings.TrimLeft(v, "0"); t != "" || v == "" {
			return t, nil
		}
		return "0", nil
	case CardPad:
		w, _ := strconv.Atoi(s.Arg)
		if len(v) >= w {
			return v, nil
		}
		return strings.Repeat("0", w-len(v)) + v, nil
	case CardAddFacility:
		return s.Arg + v, nil
	case CardRemoveFacility:
		w, _ := strconv.Atoi(s.Arg)
		if len(v) <= w {
			return "", fmt.Errorf("%q is not longer than the %d-character facility code", v, w)
		}
		return v[w:], nil
	case CardUpper:
		return strings.ToUpper(v), nil
	case CardLower:
		return strings.ToLower(v), nil
	}
	return "", fmt.Errorf("unknown step %q", s.Op)
}

func isHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}
