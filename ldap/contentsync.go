package ldap

import (
	"context"
	"errors"

	goldap "github.com/go-ldap/ldap/v3"
)

// ContentSyncResult is what an RFC 4533 refreshOnly content sync said
// about the entries that left a search since a cookie.
type ContentSyncResult struct {
	// Deleted are the entryUUIDs (lower case) the server reported deleted,
	// or moved out of the search, since the cookie.
	Deleted []string
	// Changed are the entryUUIDs the server reported added or modified:
	// an entry moved from one search base to another is deleted from the
	// first and added to the second.
	Changed []string
	// Present is set when the server could not replay the changes since
	// the cookie (its session log no longer reaches back that far) and
	// listed the present entries instead: deletions are then implied,
	// not reported, and roster leaves them to a full sync.
	Present bool
	// Unsupported is set when the server does not do content sync there
	// (no syncprov overlay on that database, or no right to it).
	Unsupported bool
}

// syncCookie is the cookie of OpenLDAP's syncprov that resumes from csn.
func syncCookie(csn string) []byte { return []byte("rid=000,csn=" + csn) }

// ContentSyncDeleted runs a refreshOnly content sync (RFC 4533) of base
// and filter from the state cookie names, asking for no attributes, and
// collects the deletions the server reports. The server's changed entries
// are ignored: roster reads them by entryCSN, with its own paging.
//
// Content sync cannot be paged; the server's size limit bounds it. A
// refused or unsupported request is reported in the result, not as an
// error, so the caller can go on without deletions.
func (c *Conn) ContentSyncDeleted(ctx context.Context, base, filter string, cookie []byte) (*ContentSyncResult, error) {
	res := &ContentSyncResult{}
	req := c.request(SearchRequest{BaseDN: base, Scope: ScopeSubtree, Filter: filter, Attributes: []string{"1.1"}}, nil)
	req.Controls = append(req.Controls, goldap.NewControlSyncRequest(goldap.SyncRequestModeRefreshOnly, cookie, false))
	seen := 0
	// A refreshOnly content sync ends with a SearchResultDone that
	// carries the sync done control (RFC 4533, 3.3.1): that is its proof.
	_, err := c.streamed(ctx, base, contentSyncWhat(base), req, goldap.ControlTypeSyncDone, func(r goldap.Response) error {
		if seen++; seen > maxContentSyncMessages {
			return errTooMuchContentSync
		}
		if e := r.Entry(); e != nil {
			if st, ok := goldap.FindControl(r.Controls(), goldap.ControlTypeSyncState).(*goldap.ControlSyncState); ok {
				switch st.State {
				case goldap.SyncStateDelete:
					res.Deleted = append(res.Deleted, st.EntryUUID.String())
				case goldap.SyncStatePresent:
					res.Present = true
				case goldap.SyncStateAdd, goldap.SyncStateModify:
					res.Changed = append(res.Changed, st.EntryUUID.String())
				}
			}
			return nil
		}
		info, ok := goldap.FindControl(r.Controls(), goldap.ControlTypeSyncInfo).(*goldap.ControlSyncInfo)
		if !ok {
			return nil
		}
		switch {
		case info.SyncIdSet != nil && info.SyncIdSet.RefreshDeletes:
			for _, u := range info.SyncIdSet.SyncUUIDs {
				res.Deleted = append(res.Deleted, u.String())
			}
		case info.SyncIdSet != nil, info.RefreshPresent != nil:
			res.Present = true
		}
		return nil
	})
	if errors.Is(err, errTooMuchContentSync) {
		return &ContentSyncResult{Present: true}, nil // too much to trust as a list of deletions
	}
	if err != nil {
		var le *goldap.Error
		if errors.As(err, &le) {
			switch le.ResultCode {
			case goldap.LDAPResultUnavailableCriticalExtension, goldap.LDAPResultUnwillingToPerform,
				goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultInappropriateMatching,
				goldap.LDAPResultSyncRefreshRequired:
				res.Unsupported = le.ResultCode != goldap.LDAPResultSyncRefreshRequired
				res.Present = le.ResultCode == goldap.LDAPResultSyncRefreshRequired
				return res, nil
			case goldap.LDAPResultSizeLimitExceeded, goldap.LDAPResultAdminLimitExceeded:
				return &ContentSyncResult{Present: true}, nil // cut short: the list may be partial
			}
		}
		return nil, err
	}
	return res, nil
}

// errTooMuchContentSync stops a content sync past maxContentSyncMessages.
var errTooMuchContentSync = errors.New("too many content sync messages")

// maxContentSyncMessages bounds one content sync's reading.
const maxContentSyncMessages = 1_000_000
