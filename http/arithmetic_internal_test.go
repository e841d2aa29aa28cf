package http

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

// The README's Security section gives the guessing arithmetic; it is
// made here from the policies, so that a change to a budget without the
// README fails this test, which prints the lines to put there.
func TestREADMEArithmetic(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, line := range arithmeticLines() {
		if !strings.Contains(string(readme), line) {
			missing = append(missing, line)
		}
	}
	if missing != nil {
		t.Fatalf("the README's Security section lacks these lines, made from the policies in guessing.go:\n%s", strings.Join(missing, "\n"))
	}
}

func arithmeticLines() []string {
	window := func(p roster.LockoutPolicy) string {
		return fmt.Sprintf("%d in %s, then %s doubling to %s", p.Failures, words(p.Window), words(p.Lock), words(p.MaxLock))
	}
	lines := []string{
		"| wrong guess | one terminal | a day, at most | all terminals together | a day, at most |",
	}
	for _, k := range []struct {
		what     string
		term, al roster.LockoutPolicy
	}{
		{"unknown cards", cardTerminal, cardAll},
		{"print codes typed alone", codeTerminal, codeAll},
		{"passwords, and codes given with a login or card", passwordTerminal, passwordAll},
	} {
		lines = append(lines, fmt.Sprintf("| %s | %s | %s | %s | %s |", k.what, window(k.term), thousands(k.term.PerDay()), window(k.al), thousands(k.al.PerDay())))
	}
	lines = append(lines,
		"| what is counted | limit | a day, at most |",
		fmt.Sprintf("| one user's print code, given with the login or card | %s, at every terminal | %s |", window(userCode), thousands(userCode.PerDay())),
		fmt.Sprintf("| one user's password | %s, at every terminal | %s |", window(userPassword), thousands(userPassword.PerDay())),
		fmt.Sprintf("| console sign-in, per admin name | %s, from any address | %s |", window(adminName), thousands(adminName.PerDay())),
		fmt.Sprintf("| console sign-in, per client address (IPv6: per /64) | %s | %s |", window(adminAddress), thousands(adminAddress.PerDay())),
	)
	// Expected time to the first right code, guessing at the
	// all-terminals rate: one given code (half the space), or any one of
	// n users' codes (the space over n+1).
	all := codeAll.PerDay()
	lines = append(lines, "| digits | one given code | any of 100 users' codes | any of 1,000 users' codes | one user's code, with the login or card | anyone's, with logins or cards |")
	for _, digits := range []int{4, 5, 6, 8} {
		space := math.Pow(10, float64(digits))
		lines = append(lines, fmt.Sprintf("| %d | %s | %s | %s | %s | %s |", digits,
			days(space/2/all), days(space/101/all), days(space/1001/all),
			days(space/2/userCode.PerDay()), days(space/passwordAll.PerDay())))
	}
	return lines
}

// words says a duration as the README does: "5 minutes", "2 hours".
func words(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/time.Minute), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func thousands(f float64) string {
	n := int(math.Round(f))
	if n >= 1000 {
		return fmt.Sprintf("%d,%03d", n/1000, n%1000)
	}
	return fmt.Sprint(n)
}

// days says a span of d days in the unit a person would use.
func days(d float64) string {
	switch {
	case d < 1:
		return plural(int(math.Round(d*24)), "hour")
	case d < 60:
		return plural(int(math.Round(d)), "day")
	case d < 2*365:
		return plural(int(math.Round(d/30.4)), "month")
	}
	y := d / 365
	if y < 10 {
		return fmt.Sprintf("%.1f years", y)
	}
	return fmt.Sprintf("%s years", thousands(math.Round(y)))
}
