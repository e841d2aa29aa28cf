package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/userbase"
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
			db, err := userbase.OpenSQLite(filepath.Join(data, "roster.db"))
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

// TestCardConflictOnTheLab gives one OpenLDAP user another user's card,
// as a typo in the directory would: the sync names both users, the first
// keeps the card, and the second keeps its other cards and its user.
func TestCardConflictOnTheLab(t *testing.T) {
	env := labenv.Require(t)
	admin := env.Admin(t, labenv.OpenLDAP)
	var owner, taker labdataAccount
	for _, u := range env.Data(t, labenv.OpenLDAP).Users {
		if u.Service || len(u.Cards) == 0 {
			continue
		}
		switch {
		case owner.Login == "":
			owner = labdataAccount{u.Login, u.Cards}
		case taker.Login == "":
			taker = labdataAccount{u.Login, u.Cards}
		}
	}
	dn := entryDN(t, admin, env, labenv.OpenLDAP, taker.Login)
	before := attrOf(t, admin, dn, "printCardNumber")
	set := func(v string) {
		m := goldap.NewModifyRequest(dn, nil)
		m.Replace("printCardNumber", []string{v})
		if err := env.Admin(t, labenv.OpenLDAP).Modify(m); err != nil {
			t.Fatal(err)
		}
	}
	set(owner.Cards[0])
	t.Cleanup(func() { set(before) })

	data := t.TempDir()
	r := syncJSON(t, exitOK, syncArgs(env, labenv.OpenLDAP, data, "conflict", "")...)
	var msg string
	for _, e := range r.Run.EntryErrors {
		if strings.Contains(e.Message, owner.Cards[0]) {
			msg = e.Message
		}
	}
	if !strings.Contains(msg, strings.ToLower(owner.Login)) || !strings.Contains(msg, strings.ToLower(taker.Login)) {
		t.Fatalf("the run does not name both users for card %s: %q (errors %v)", owner.Cards[0], msg, r.Run.EntryErrors)
	}
	db, err := userbase.OpenSQLite(filepath.Join(data, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o, err1 := db.UserByLogin(context.Background(), strings.ToLower(owner.Login))
	k, err2 := db.UserByLogin(context.Background(), strings.ToLower(taker.Login))
	if err1 != nil || err2 != nil || len(o.Cards) == 0 || o.Cards[0].Number != owner.Cards[0] {
		t.Fatalf("the first holder lost the card: %+v %v %v", o, err1, err2)
	}
	for _, c := range k.Cards {
		if c.Number == owner.Cards[0] {
			t.Fatalf("the second holder got the card too: %v", k.Cards)
		}
	}
}

type labdataAccount struct {
	Login string
	Cards []string
}
