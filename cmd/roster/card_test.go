package main

import (
	"strings"
	"testing"
)

func TestCardTestBench(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     []string
	}{
		{[]string{"card", "test", "-step", "reverse-bytes", "-step", "hex-to-dec", "04A1B2C3"}, exitOK,
			[]string{"1  reverse-bytes  C3B2A104", "2  hex-to-dec     3283263748", "=> 3283263748"}},
		{[]string{"card", "test", "-step", "hex-to-dec", "FF", "XYZ"}, exitFailure,
			[]string{"=> 255", `refused: "XYZ" is not hexadecimal`, "=> no card"}},
		{[]string{"card", "test", "-step", "pad", "1"}, exitUsage, []string{"needs its width"}},
		{[]string{"card", "test", "-step", "rot13", "1"}, exitUsage, []string{"not a step", "hex-to-dec"}},
		{[]string{"card", "test", "-step", "upper"}, exitUsage, []string{"give the card values"}},
		{[]string{"card", "-h"}, exitOK, []string{"remove-facility=WIDTH"}},
		{[]string{"card", "test", "-json", "-step", "strip-zeros", "007"}, exitOK, []string{`"result": "7"`}},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, nil, tt.args...)
		if code != tt.wantCode {
			t.Errorf("roster %q = %d, want %d\n%s%s", tt.args, code, tt.wantCode, out, errOut)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out+errOut, w) {
				t.Errorf("roster %q: no %q in\n%s%s", tt.args, w, out, errOut)
			}
		}
	}
}
