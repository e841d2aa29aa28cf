package ldap

import (
	"context"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// WriteAttribute sets attr of the entry dn to values, as roster's
// write-back does ("reverse synchronization": a print code or a card
// number roster made, written to the user's entry). It reads the
// attribute first and writes only when it differs, so a write repeated
// changes nothing; changed says whether it wrote.
//
// Errors name the account, the attribute and the entry, and say what to
// do: EFORBIDDEN when the account may not write there (on Entra Domain
// Services, users synced from Entra ID are read-only), EINVALID when the
// entry cannot hold the attribute.
func (c *Conn) WriteAttribute(ctx context.Context, dn, attr string, values []string) (changed bool, err error) {
	have, err := c.current(ctx, dn, attr)
	if err != nil {
		return false, err
	}
	if slices.Equal(have, values) {
		return false, nil
	}
	return true, c.modify(ctx, dn, attr, values)
}

// WriteFirstValue puts value in place of the first of the values attr
// holds on dn, keeping the others: a card written back replaces the
// primary card, not the secondary ones. One value holding several cards
// split by seps keeps the cards after the first and their separators.
func (c *Conn) WriteFirstValue(ctx context.Context, dn, attr, seps, value string) (changed bool, err error) {
	have, err := c.current(ctx, dn, attr)
	if err != nil {
		return false, err
	}
	want := replaceFirst(have, seps, value)
	if slices.Equal(have, want) {
		return false, nil
	}
	return true, c.modify(ctx, dn, attr, want)
}

// replaceFirst is the values with the first card replaced by value.
func replaceFirst(values []string, seps, value string) []string {
	if len(values) == 0 {
		return []string{value}
	}
	out := slices.Clone(values)
	if i := strings.IndexAny(out[0], seps); seps != "" && i >= 0 {
		out[0] = value + out[0][i:]
	} else {
		out[0] = value
	}
	return out
}

// TestWrite checks that the account may write attr on dn, without
// changing it: it writes the values the entry holds back in place. The
// directory checks the right all the same. An attribute that reads back
// empty is not tried: the account may be allowed to write what it cannot
// read, and writing back "nothing" would erase it.
func (c *Conn) TestWrite(ctx context.Context, dn, attr string) error {
	have, err := c.current(ctx, dn, attr)
	if err != nil {
		return err
	}
	if len(have) == 0 {
		return roster.Errorf(roster.EINVALID, "%s of %s is empty, or this account cannot read it: the test write was not tried, so as to erase nothing; try it on a user who has a value", attr, dn)
	}
	return c.modify(ctx, dn, attr, have)
}

// current reads the values attr holds on dn, before a write.
func (c *Conn) current(ctx context.Context, dn, attr string) ([]string, error) {
	e, err := c.Get(ctx, dn, attr)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errEntryGone(dn)
	}
	return e.Values(attr), nil
}

func (c *Conn) modify(ctx context.Context, dn, attr string, values []string) error {
	m := goldap.NewModifyRequest(dn, nil)
	m.Replace(attr, values)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.conn.Modify(m) }()
	select {
	case err := <-done:
		if err != nil {
			return c.writeError(dn, attr, err)
		}
		return nil
	case <-ctx.Done():
		c.conn.Close()
		return c.netError("write of "+attr+" on "+dn, ctx.Err())
	}
}
