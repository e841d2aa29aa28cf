package roster

import (
	"strings"
	"testing"
)

func TestTrivialPrintCode(t *testing.T) {
	for _, c := range []string{"1111", "1234", "4321", "0123", "8901", "9876", "1212", "123123", "0000", "121212", "7"} {
		if !TrivialPrintCode(c) {
			t.Errorf("%s is not called trivial", c)
		}
	}
	for _, c := range []string{"2580", "4815", "1123", "9512", "830174", "1231"} {
		if TrivialPrintCode(c) {
			t.Errorf("%s is called trivial", c)
		}
	}
}

func TestGeneratePrintCode(t *testing.T) {
	seen := map[string]bool{}
	taken := func(c string) (bool, error) { return seen[c], nil }
	for range 2000 {
		c, err := GeneratePrintCode(6, taken)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" || TrivialPrintCode(c) || seen[c] {
			t.Fatalf("GeneratePrintCode gave %q", c)
		}
		seen[c] = true
	}
	// A full space: every code taken.
	if _, err := GeneratePrintCode(6, func(string) (bool, error) { return true, nil }); ErrorCode(err) != EUNAVAILABLE {
		t.Fatalf("a full code space = %v", err)
	}
	if _, err := GeneratePrintCode(5, taken); ErrorCode(err) != EINVALID {
		t.Fatalf("length 5 = %v", err)
	}
}
