package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster/lab/labenv"
)

// TestCardTransformsOnTheLab syncs the lab's directories with card
// transforms and checks the stored cards against the generated ones,
// transformed here by plain code, independent of the pipeline's.
func TestCardTransformsOnTheLab(t *testing.T) {
	env := labenv.Require(t)
	reverseHex := func(s string) string {
		if len(s)%2 == 1 {
			s = "0" + s
		}
		var b strings.Builder
		for i := len(s) - 2; i >= 0; i -= 2 {
			b.WriteString(s[i : i+2])
		}
		return b.String()
	}
	tests := []struct {
		name  string
		d     labenv.Directory
		steps []string
		want  func(raw string) (string, bool) // false: the value is refused
	}{
		{"AD: strip zeros, add a facility code", labenv.AD, []string{"strip-zeros", "add-facility=77"},
			func(raw string) (string, bool) { return "77" + strings.TrimLeft(raw, "0"), true }},
		{"OpenLDAP: LSB-first reader in decimal", labenv.OpenLDAP, []string{"reverse-bytes", "hex-to-dec", "pad=12"},
			func(raw string) (string, bool) {
				n, err := strconv.ParseUint(reverseHex(raw), 16, 64)
				if err != nil {
					return "", false
				}
				return fmt.Sprintf("%012d", n), true
			}},
		{"AD: only ten-digit cards, the hex ones refused", labenv.AD, []string{`extract=^([0-9]{10})$`, "remove-facility=2"},
			func(raw string) (string, bool) {
				if len(raw) != 10 || strings.Trim(raw, "0123456789") != "" {
					return "", false
				}
				return raw[2:], true
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			args := syncArgs(env, tt.d, data, "cards", "")
			for _, s := range tt.steps {
				args = append(args, "-card-step", s)
			}
			r := syncJSON(t, exitOK, args...)
			refused := 0
			db, err := openSQLite(filepath.Join(data, "roster.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checked := 0
			for _, u := range env.Data(t, tt.d).Users {
				if u.Service || len(u.Cards) == 0 {
					continue
				}
				var want []string
				for _, c := range u.Cards {
					if w, ok := tt.want(c); ok {
						want = append(want, w)
					} else {
						refused++
					}
				}
				if checked >= 300 {
					continue // count the refusals of all, compare the first 300
				}
				got, err := db.UserByLogin(context.Background(), strings.ToLower(u.Login))
				if err != nil {
					continue // skipped by the lab's awkward entries (no login, a duplicate)
				}
				var have []string
				for _, c := range got.Cards {
					have = append(have, c.Number)
				}
				if strings.Join(have, ",") != strings.Join(want, ",") {
					t.Errorf("%s: cards %v, want %v (from %v)", u.Login, have, want, u.Cards)
				}
				checked++
			}
			if checked < 100 {
				t.Fatalf("only %d users compared", checked)
			}
			t.Logf("%d users compared, %d card values refused", checked, refused)
			notes := strings.Join(r.Run.Notes, "\n")
			if refused > 0 && !strings.Contains(notes, fmt.Sprintf("%d card values did not pass", refused)) {
				t.Errorf("%d values refused, notes: %q", refused, notes)
			}
			if refused == 0 && strings.Contains(notes, "did not pass") {
				t.Errorf("no value should be refused, notes: %q", notes)
			}
			if r.Run.Created < 1000 {
				t.Errorf("created %d: refused cards must not keep users out", r.Run.Created)
			}
		})
	}
}
