package graph

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/rosterhq/roster"
)

// ErrResync is in the chain of the error UsersDelta returns when the
// service no longer takes the deltaLink: it expired (a deltaLink of
// directory objects lives about 7 days: syncStateNotFound), or the
// service reset it (410 Gone, resyncRequired). The caller then reads
// every user in a new first round; such a round reports no deletions,
// so the caller finds them itself, by the IDs the round did not return.
var ErrResync = errors.New("the delta link is no longer accepted")

// Removal is a user a delta round reports removed: soft-deleted
// (restorable for 30 days) or, Permanent, gone for good.
type Removal struct {
	ID        string
	Permanent bool
}

// DeltaPage is one page of a delta round.
type DeltaPage struct {
	Users   []Object
	Removed []Removal
}

// UsersDelta runs one round of the users delta query: from link, the
// deltaLink the round before ended with, or, when link is "", a first
// round that returns every user with the properties in fields. Each page
// goes to fn as it comes. It returns the round's own deltaLink, where
// the next round starts, and only once the round's last page was read:
// keep it only after the round's changes are applied.
//
// Errors: one with ErrResync in its chain when the service no longer
// takes link; the errors of Users otherwise.
func (c *Client) UsersDelta(ctx context.Context, link string, fields []string, fn func(DeltaPage) error) (string, error) {
	next := link
	if next == "" {
		q := url.Values{}
		if len(fields) > 0 {
			q.Set("$select", strings.Join(fields, ","))
		}
		next = c.cfg.Cloud.GraphHost + "/v1.0/users/delta?" + q.Encode()
	} else if !c.onGraph(next) {
		return "", roster.Errorf(roster.EINVALID, "the stored delta link is on another host (%s) than Microsoft Graph's; roster does not send its token there: run a full sync", hostOf(next))
	}
	for n := 0; ; n++ {
		if n == MaxPages {
			return "", roster.Errorf(roster.EUNAVAILABLE, "Microsoft Graph gave more than %d pages in one delta round; the read stops and removes nobody", MaxPages)
		}
		p, err := c.getPage(ctx, next)
		if err != nil {
			return "", err
		}
		var dp DeltaPage
		for _, o := range p.Value {
			if rm, ok := o["@removed"].(map[string]any); ok {
				dp.Removed = append(dp.Removed, Removal{ID: o.ID(), Permanent: rm["reason"] == "deleted"})
				continue
			}
			dp.Users = append(dp.Users, o)
		}
		if err := fn(dp); err != nil {
			return "", err
		}
		switch {
		case p.Next != "":
			next = p.Next
		case p.Delta != "":
			return p.Delta, nil
		default:
			// Neither a next page nor a deltaLink: the round did not end.
			return "", roster.Errorf(roster.EUNAVAILABLE, "Microsoft Graph ended a delta page with neither a next page nor a delta link; the round is not proved complete, so it removes nobody")
		}
	}
}

// onGraph reports whether a link Graph gave leads back to Graph's host:
// the token goes with it.
func (c *Client) onGraph(link string) bool {
	return strings.HasPrefix(link, c.cfg.Cloud.GraphHost+"/")
}

// LatestDelta returns a delta link at the tenant's current state, with no
// data ($deltatoken=latest): a round from it gives what changes after
// now. fields are the properties later rounds return.
func (c *Client) LatestDelta(ctx context.Context, fields []string) (string, error) {
	q := url.Values{"$deltatoken": {"latest"}}
	if len(fields) > 0 {
		q.Set("$select", strings.Join(fields, ","))
	}
	p, err := c.getPage(ctx, c.cfg.Cloud.GraphHost+"/v1.0/users/delta?"+q.Encode())
	if err != nil {
		return "", err
	}
	if p.Delta == "" {
		return "", roster.Errorf(roster.EUNAVAILABLE, "Microsoft Graph gave no delta link for $deltatoken=latest")
	}
	return p.Delta, nil
}
