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
// longer follows on. Other directories return a zero cursor for now:
// their runs are full syncs.
func (d *Directory) Mark(ctx context.Context) (roster.Cursor, error) {
	if !d.src.Type.IsAD() {
		return roster.Cursor{}, nil
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
	if e, err := d.conn.Get(ctx, rd.DSServiceName, "invocationId"); err == nil && e != nil {
		if raw := e.Raw("invocationId"); len(raw) == 16 {
			server += "|" + GUIDString(raw)
		}
	}
	return roster.Cursor{Kind: roster.CursorUSN, Server: server, Value: rd.HighestUSN}, nil
}

// GroupsChanged reports whether any group under the search bases
// changed after the cursor. On AD a membership is the group's member
// attribute, so a user who joins or leaves a group changes the group.
func (d *Directory) GroupsChanged(ctx context.Context, since roster.Cursor) (bool, error) {
	usn, err := strconv.ParseUint(since.Value, 10, 64)
	if since.Kind != roster.CursorUSN || err != nil {
		return true, nil // cannot tell: read them
	}
	filter := "(&" + d.groupFilter() + "(uSNChanged>=" + strconv.FormatUint(usn+1, 10) + "))"
	found := errors.New("found")
	for _, base := range d.src.SearchBases() {
		_, err := d.conn.Search(ctx, SearchRequest{BaseDN: base, Scope: ScopeSubtree, Filter: filter,
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

// Changed reads the users whose uSNChanged is above the cursor, with the
// same paging, mapping and bad-entry handling as Users.
func (d *Directory) Changed(ctx context.Context, since roster.Cursor, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	usn, err := strconv.ParseUint(since.Value, 10, 64)
	if since.Kind != roster.CursorUSN || err != nil {
		return roster.Errorf(roster.EINVALID, "the stored cursor (%s %q) is not an Active Directory USN; run a full sync", since.Kind, since.Value)
	}
	// The USN test comes first: Samba evaluates the terms in order and
	// scans less that way (0.21 s against 0.32 s for 20,000 users).
	filter := "(&(uSNChanged>=" + strconv.FormatUint(usn+1, 10) + ")" + UserFilter(d.src.Type, d.src.UserFilter) + ")"
	return d.users(ctx, filter, page, bad)
}
