package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

// Limits on what one entry may carry. Longer values are a directory
// mistake or an attack, and the entry is skipped and reported.
const (
	maxLoginBytes = 256
	maxFieldBytes = 2048
)

// validate returns why a record cannot be synced, or "".
func validate(r *roster.Record) string {
	switch {
	case r.Anchor == "":
		return "the entry has no identity anchor (objectGUID or entryUUID)"
	case r.Login == "":
		return "the entry has no login: the login attribute is empty or white space only"
	case len(r.Login) > maxLoginBytes:
		return fmt.Sprintf("the login is %d bytes long, more than %d", len(r.Login), maxLoginBytes)
	}
	// Checked in place, not gathered into a list first: validate runs for
	// every entry of every sync, and the list cost an allocation each.
	check := func(name, v string) string {
		if !utf8.ValidString(v) {
			return fmt.Sprintf("the %s is not valid UTF-8", name)
		}
		if len(v) > maxFieldBytes {
			return fmt.Sprintf("the %s is %d bytes long, more than %d", name, len(v), maxFieldBytes)
		}
		return ""
	}
	for _, f := range [...]struct{ name, v string }{
		{"login", r.Login}, {"DN", r.DN}, {"name", r.Name}, {"email", r.Email},
		{"department", r.Department}, {"cost center", r.CostCenter}, {"print code", r.PrintCode},
	} {
		if why := check(f.name, f.v); why != "" {
			return why
		}
	}
	for _, c := range r.Cards {
		if why := check("card", c); why != "" {
			return why
		}
	}
	for k, vs := range r.Extra {
		for _, v := range vs {
			if why := check(k, v); why != "" {
				return why
			}
		}
	}
	return ""
}

// diff compares a directory record with the stored user of the same
// anchor (nil when there is none) and returns the change to make, or nil
// when the user is up to date. hash turns a print code into its stored
// keyed hash. It never touches local data: manual cards, aliases, an
// admin's disable.
func diff(r *roster.Record, cur *roster.User, hash func(string) string, disabled roster.DisabledUsers) *roster.Change {
	// A directory without a code for this user leaves a code set in
	// roster alone: print codes are often given out locally.
	codeHash := ""
	switch {
	case r.PrintCode != "":
		codeHash = hash(r.PrintCode)
	case cur != nil:
		codeHash = cur.PrintCodeHash
	}
	next := &roster.User{}
	if cur != nil {
		copied := *cur
		next = &copied
	}
	next.Anchor, next.DN, next.Login = r.Anchor, r.DN, r.Login
	next.Name, next.Email, next.Department, next.CostCenter = r.Name, r.Email, r.Department, r.CostCenter
	next.PrintCodeHash = codeHash
	next.Extra = r.Extra
	next.MissingSince = time.Time{}
	next.Cards = mergeCards(cur, r.Cards)

	ch := &roster.Change{Login: r.Login, DN: r.DN, User: next}
	var stored []roster.Card
	if cur != nil {
		ch.PrintCodeWas = cur.PrintCodeHash
		stored = cur.Cards
	}
	// The stored cards came with the user: the store need not read them
	// again to learn whether to write them.
	ch.CardsChanged = !sameDirectoryCards(stored, next.Cards)
	if cur == nil {
		if r.Disabled && disabled == roster.SkipDisabled {
			return nil
		}
		ch.Kind = roster.Create
		if r.Disabled {
			next.Disabled, next.DisabledReason = true, roster.DisabledInDirectory
		}
		// A create's fields are listed for a plan only (apply): a first
		// sync of 100,000 users made them for nobody to read, a sixth of
		// what it allocated.
		return ch
	}

	switch {
	case r.Disabled && !cur.Disabled:
		next.Disabled, next.DisabledReason = true, roster.DisabledInDirectory
		ch.Kind, ch.Reason = roster.Disable, "disabled in the directory"
	case !r.Disabled && cur.Disabled && cur.DisabledReason != roster.DisabledByAdmin:
		next.Disabled, next.DisabledReason = false, ""
		ch.Kind = roster.Reenable
		if cur.DisabledReason == roster.DisabledMissing {
			ch.Reason = "back in the directory"
		} else {
			ch.Reason = "enabled in the directory"
		}
	case r.Disabled && cur.Disabled && cur.DisabledReason == roster.DisabledMissing:
		// Back in the directory, but disabled there: keep it disabled,
		// now for the directory's reason.
		next.DisabledReason = roster.DisabledInDirectory
	}
	ch.Fields = fieldChanges(cur, next)
	if cur.Login != next.Login || roster.DNKey(cur.DN) != roster.DNKey(next.DN) {
		if ch.Kind == "" {
			ch.Kind = roster.Rename
		}
		// The old login stays reachable as a former login, unless it
		// is the new one before normalisation (" jsmith", or in NFD),
		// which no lookup can tell from it, or a login given up.
		if cur.Login != next.Login && roster.NormalizeLogin(cur.Login) != next.Login && !isFormerLogin(cur) {
			ch.OldLogin = cur.Login
		}
	}
	if ch.Kind == "" && len(ch.Fields) > 0 {
		ch.Kind = roster.Update
	}
	if ch.Kind == "" && !cur.MissingSince.IsZero() {
		ch.Kind = roster.Update // clear the missing mark quietly
	}
	if ch.Kind == "" {
		return nil
	}
	return ch
}

// mergeCards keeps the user's manual cards and replaces the directory
// ones: the first directory card is the primary, the others secondary.
func mergeCards(cur *roster.User, dir []string) []roster.Card {
	var out []roster.Card
	if cur != nil {
		for _, c := range cur.Cards {
			if c.Origin == roster.CardManual {
				out = append(out, c)
			}
		}
	}
	for i, n := range dir {
		kind := roster.CardSecondary
		if i == 0 {
			kind = roster.CardPrimary
		}
		out = append(out, roster.Card{Number: n, Kind: kind, Origin: roster.CardFromDirectory})
	}
	return out
}

// sameDirectoryCards reports whether two card lists hold the same
// directory cards, with the same numbers, kinds and expiry, in the same
// order; cards added by hand are passed over, and a card without an
// Origin counts as a directory card, as the store counts it. It is what
// the store would find comparing the stored cards with the planned ones,
// so that a change whose cards are the same leaves them unwritten
// (Change.CardsChanged). The order counts: the first directory card is
// the primary. diff calls it for every entry of every sync, so it
// allocates nothing.
func sameDirectoryCards(a, b []roster.Card) bool {
	i, j := 0, 0
	for {
		for i < len(a) && a[i].Origin == roster.CardManual {
			i++
		}
		for j < len(b) && b[j].Origin == roster.CardManual {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		x, y := a[i], b[j]
		if x.Number != y.Number || x.Kind != y.Kind || !x.ExpiresAt.Equal(y.ExpiresAt) {
			return false
		}
		i, j = i+1, j+1
	}
}

func directoryCards(u *roster.User) []string {
	var out []string
	for _, c := range u.Cards {
		if c.Origin == roster.CardFromDirectory {
			out = append(out, c.Number)
		}
	}
	return out
}

// fieldChanges lists the fields that differ, as an admin reads them.
// A print code is never shown, only whether it is set or changed.
func fieldChanges(a, b *roster.User) []roster.FieldChange {
	var out []roster.FieldChange
	add := func(field, before, after string) {
		if before != after {
			out = append(out, roster.FieldChange{Field: field, Before: before, After: after})
		}
	}
	add("login", a.Login, b.Login)
	add("dn", a.DN, b.DN)
	add("name", a.Name, b.Name)
	add("email", a.Email, b.Email)
	add("department", a.Department, b.Department)
	add("cost center", a.CostCenter, b.CostCenter)
	add("cards", strings.Join(directoryCards(a), ", "), strings.Join(directoryCards(b), ", "))
	if a.PrintCodeHash != b.PrintCodeHash {
		out = append(out, roster.FieldChange{Field: "print code", Before: codeState(a.PrintCodeHash), After: codeState(b.PrintCodeHash)})
		if a.PrintCodeHash != "" && b.PrintCodeHash != "" {
			out[len(out)-1].After = "(changed)"
		}
	}
	add("disabled", fmt.Sprint(a.Disabled), fmt.Sprint(b.Disabled))
	add("extra", extraString(a.Extra), extraString(b.Extra))
	return out
}

func codeState(h string) string {
	if h == "" {
		return "(none)"
	}
	return "(set)"
}

func extraString(m map[string][]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, strings.Join(m[k], "|"))
	}
	return b.String()
}
