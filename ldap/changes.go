package ldap

import (
	"context"
	"errors"
	"strconv"

	"github.com/rosterhq/roster"
)

// Mark returns where the directory stands, for an incremental sync. On
// Active Directory (and Entra DS) that is the DC's highestCommittedUSN,
// read fresh from the rootDSE, and the DC's identity: its NTDS Settings
// DN and invocation ID. A DC restored from backup gets a new invocation
// ID and may hand out USNs again, so a cursor from before the restore no
// longer follows on. On other directories it is the contextCSN of the
// suffix that holds the search bases (see markLDAP).
func (d *Directory) Mark(ctx context.Context) (roster.Cursor, error) {
	if d.dialect().Cursor != roster.CursorUSN {
		return d.markLDAP(ctx)
	}
	rd, err := d.conn.RootDSE(ctx)
	if err != nil {
		return roster.Cursor{}, err
	}
	if rd.HighestUSN == "" || rd.DSServiceName == "" {
		return roster.Cursor{}, nil
	}
	if _, err := strconv.ParseUint(rd.HighestUSN, 10, 64); err != nil {
		return roster.Cursor{}, nil
	}
	server := rd.DSServiceName
	// The invocation ID is on the NTDS Settings object, which any
	// authenticated user may read. Without it, the DN alone identifies
	// the DC, and a restore is caught only if its USN went back.
	// A read that failed for want of a right is no reason to stop; a
	// lost connection is, like everywhere else.
	e, err := d.conn.Get(ctx, rd.DSServiceName, "invocationId")
	switch roster.ErrorCode(err) {
	case "", roster.EFORBIDDEN, roster.ENOTFOUND:
	default:
		return roster.Cursor{}, err
	}
	if e != nil {
		if raw := e.Raw("invocationId"); len(raw) == 16 {
			server += "|" + GUIDString(raw)
		}
	}
	return roster.Cursor{Kind: roster.CursorUSN, Server: server, Value: rd.HighestUSN}, nil
}

// markLDAP reads the contextCSN of the naming context holding the first
// search base. OpenLDAP's syncprov overlay keeps it: the CSN of the last
// change, one per server ID in multi-provider setups (the earliest wins).
// Without it (no syncprov, or bases in two databases) the cursor is a
// time, for modifyTimestamp (see roster.CursorTime).
func (d *Directory) markLDAP(ctx context.Context) (roster.Cursor, error) {
	c, err := d.markCSN(ctx)
	if err != nil || !c.IsZero() {
		return c, err
	}
	return roster.Cursor{Kind: roster.CursorTime, Server: "modifyTimestamp",
		Value: d.now().UTC().Add(-roster.TimeCursorMargin).Format(roster.TimeCursorFormat)}, nil
}

func (d *Directory) markCSN(ctx context.Context) (roster.Cursor, error) {
	suffix := ""
	for i, base := range d.src.SearchBases() {
		nc := ""
		for _, c := range d.rootDSE.NamingContexts {
			if roster.DNWithin(base, c) && len(c) > len(nc) {
				nc = c
			}
		}
		if nc == "" || (i > 0 && nc != suffix) {
			return roster.Cursor{}, nil // one CSN cannot speak for two databases
		}
		suffix = nc
	}
	if suffix == "" {
		return roster.Cursor{}, nil
	}
	e, err := d.conn.Get(ctx, suffix, "contextCSN")
	if err != nil || e == nil {
		return roster.Cursor{}, err
	}
	// With several providers there is one CSN per server ID. A change
	// not yet replicated here carries a CSN later than its provider's
	// value, hence later than the earliest value: starting from the
	// earliest misses nothing (and reads a little twice).
	var earliest roster.Cursor
	for _, csn := range e.Values("contextCSN") {
		c := roster.Cursor{Kind: roster.CursorCSN, Server: suffix, Value: csn}
		if c.Valid() && (earliest.IsZero() || csn < earliest.Value) {
			earliest = c
		}
	}
	return earliest, nil
}

// since is the filter term that selects entries changed after c.
func since(c roster.Cursor) (string, error) {
	if c.Valid() {
		switch c.Kind {
		case roster.CursorUSN:
			usn, _ := strconv.ParseUint(c.Value, 10, 64)
			return "(uSNChanged>=" + strconv.FormatUint(usn+1, 10) + ")", nil
		case roster.CursorCSN:
			return "(entryCSN>=" + c.Value + ")", nil
		case roster.CursorTime:
			return "(modifyTimestamp>=" + c.Value + ")", nil
		}
	}
	return "", roster.Errorf(roster.EINVALID, "the stored cursor (%s %q) is not one roster can resume from; run a full sync", c.Kind, c.Value)
}

// GroupsChanged reports whether any group under the search bases
// changed after the cursor. On AD a membership is the group's member
// attribute, so a user who joins or leaves a group changes the group.
func (d *Directory) GroupsChanged(ctx context.Context, c roster.Cursor) (bool, error) {
	term, err := since(c)
	if err != nil {
		return true, nil // cannot tell: read them
	}
	filter := "(&" + term + d.dialect().Groups + ")"
	found := errors.New("found")
	for _, base := range searchPlan(d.src.SearchBases()) {
		_, err := d.conn.Search(ctx, SearchRequest{BaseDN: base.dn, Scope: ScopeSubtree, Filter: filter,
			Attributes: []string{"1.1"}, PageSize: 1}, func(*Entry) error { return found })
		if errors.Is(err, found) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// Changed reads the users changed since the cursor (uSNChanged above the
// USN, or entryCSN at or after the CSN), with the same paging, mapping
// and bad-entry handling as Users.
func (d *Directory) Changed(ctx context.Context, c roster.Cursor, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	term, err := since(c)
	if err != nil {
		return err
	}
	// The change term comes first: Samba evaluates the terms in order and
	// scans less that way (0.21 s against 0.32 s for 20,000 users).
	return d.users(ctx, "(&"+term+d.dialect().UserFilter(d.src.UserFilter)+")", page, bad)
}

// Deleted returns the anchors of the users deleted since the cursor.
//
// On AD (objectGUIDs) they are read from the Deleted Objects container
// with the show-deleted control. AD shows that container's content only
// to accounts granted it (Domain Admins by default): for an ordinary
// account it looks empty, and leavers wait for the next full sync.
//
// On OpenLDAP (entryUUIDs) they come from an RFC 4533 content sync of
// each search base, resumed from the cursor's CSN: syncprov replays the
// deletions its session log holds. When the log no longer reaches back
// to the cursor, or the database has no syncprov, none are known, and
// leavers wait for the next full sync.
func (d *Directory) Deleted(ctx context.Context, c roster.Cursor) ([]string, error) {
	if c.Kind == roster.CursorCSN {
		return d.deletedLDAP(ctx, c)
	}
	if c.Kind != roster.CursorUSN || d.rootDSE.DefaultNamingCtx == "" {
		return nil, nil
	}
	term, err := since(c)
	if err != nil {
		return nil, err
	}
	var out []string
	_, err = d.conn.Search(ctx, SearchRequest{BaseDN: "CN=Deleted Objects," + d.rootDSE.DefaultNamingCtx, Scope: ScopeOne,
		Filter: "(&" + term + "(isDeleted=TRUE)(objectClass=user))", Attributes: []string{"objectGUID"}, ShowDeleted: true},
		func(e *Entry) error {
			if g := GUIDString(e.Raw("objectGUID")); g != "" {
				out = append(out, g)
			}
			return nil
		})
	if roster.ErrorCode(err) == roster.ENOTFOUND || roster.ErrorCode(err) == roster.EFORBIDDEN {
		return nil, nil // no such container, or no right to it: nothing known
	}
	return out, err
}

func (d *Directory) deletedLDAP(ctx context.Context, c roster.Cursor) ([]string, error) {
	if _, err := since(c); err != nil {
		return nil, err
	}
	var deleted []string
	changed := map[string]bool{}
	for _, base := range d.src.SearchBases() {
		res, err := d.conn.ContentSyncDeleted(ctx, base, d.dialect().UserFilter(d.src.UserFilter), syncCookie(c.Value))
		if err != nil {
			return nil, err
		}
		switch {
		case res.Unsupported:
			d.log.Info("the directory does not report deletions here (no content sync); a full sync will find the leavers", "base", base)
		case res.Present:
			d.log.Info("the directory's change log no longer reaches back to the last sync; a full sync will find the leavers", "base", base)
		}
		deleted = append(deleted, res.Deleted...)
		for _, u := range res.Changed {
			changed[u] = true
		}
	}
	// An entry moved between two search bases left one and joined the
	// other: it is not gone.
	var out []string
	for _, u := range deleted {
		if !changed[u] {
			out = append(out, u)
		}
	}
	return out, nil
}
