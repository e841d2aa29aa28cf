package ldap

import (
	"context"
	"errors"
	"fmt"
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
	e, err := c.Get(ctx, dn, attr)
	if err != nil {
		return false, err
	}
	if e == nil {
		return false, roster.Errorf(roster.ENOTFOUND, "the entry %s is not in the directory (any more); run a sync", dn)
	}
	if slices.Equal(e.Values(attr), values) {
		return false, nil
	}
	return true, c.modify(ctx, dn, attr, values)
}

// WriteFirstValue puts value in place of the first of the values attr
// holds on dn, keeping the others: a card written back replaces the
// primary card, not the secondary ones. One value holding several cards
// split by seps keeps the cards after the first and their separators.
func (c *Conn) WriteFirstValue(ctx context.Context, dn, attr, seps, value string) (changed bool, err error) {
	e, err := c.Get(ctx, dn, attr)
	if err != nil {
		return false, err
	}
	if e == nil {
		return false, roster.Errorf(roster.ENOTFOUND, "the entry %s is not in the directory (any more); run a sync", dn)
	}
	have := e.Values(attr)
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
	e, err := c.Get(ctx, dn, attr)
	if err != nil {
		return err
	}
	if e == nil {
		return roster.Errorf(roster.ENOTFOUND, "the entry %s is not in the directory (any more); run a sync", dn)
	}
	if len(e.Values(attr)) == 0 {
		return roster.Errorf(roster.EINVALID, "%s of %s is empty, or this account cannot read it: the test write was not tried, so as to erase nothing; try it on a user who has a value", attr, dn)
	}
	return c.modify(ctx, dn, attr, e.Values(attr))
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

// writeError turns a refused modify into a sentence with the fix.
func (c *Conn) writeError(dn, attr string, err error) error {
	var le *goldap.Error
	if !errors.As(err, &le) {
		return c.netError("write of "+attr, err)
	}
	e := &roster.Error{Op: "ldap.Write", Err: err}
	switch le.ResultCode {
	case goldap.LDAPResultInsufficientAccessRights:
		e.Code = roster.EFORBIDDEN
		e.Message = fmt.Sprintf("the account %s may not write %s on %s; grant it write access to that attribute on the users' container, or turn write-back off", c.src.Login, attr, dn)
		if c.src.Type == roster.EntraDS {
			e.Message = fmt.Sprintf("Entra Domain Services refused to write %s on %s: users synced from Microsoft Entra ID are read-only there. "+
				"Set the attribute in Entra ID (or in the on-premises AD that feeds it), and map it as the print code or card attribute; "+
				"or turn write-back off and let roster keep the codes itself", attr, dn)
		}
	case goldap.LDAPResultUnwillingToPerform:
		e.Code = roster.EFORBIDDEN
		e.Message = fmt.Sprintf("the directory is unwilling to write %s on %s (a read-only replica, or a read-only object): %s; write-back needs a writable server", attr, dn, le.Err)
		if c.src.Type == roster.EntraDS {
			e.Message = fmt.Sprintf("Entra Domain Services will not write %s on %s: users synced from Microsoft Entra ID are read-only there. "+
				"Set the attribute in Entra ID instead, or turn write-back off and let roster keep the codes itself", attr, dn)
		}
	case goldap.LDAPResultUndefinedAttributeType, goldap.LDAPResultObjectClassViolation, goldap.LDAPResultNoSuchAttribute:
		e.Code = roster.EINVALID
		e.Message = fmt.Sprintf("the entry %s cannot hold the attribute %s (the directory's schema says: %s); choose another attribute for write-back", dn, attr, le.Err)
	case goldap.LDAPResultConstraintViolation, goldap.LDAPResultInvalidAttributeSyntax:
		e.Code = roster.EINVALID
		e.Message = fmt.Sprintf("the directory refused the value for %s on %s: %s", attr, dn, le.Err)
	case goldap.LDAPResultNoSuchObject:
		e.Code = roster.ENOTFOUND
		e.Message = fmt.Sprintf("the entry %s is not in the directory (any more); run a sync", dn)
	default:
		e.Code = roster.EINTERNAL
		e.Message = fmt.Sprintf("the directory refused to write %s on %s: %s", attr, dn, le.Error())
	}
	return e
}
