package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster"
)

// A Directory reads changes with Graph's delta query (reconcile's
// ChangeReader): the cursor is a delta link taken before a run reads
// ($deltatoken=latest), as a USN is on AD, so that a change made during
// a run is read again by the next one; replays change nothing.

// Mark returns a delta link at the tenant's current state.
func (d *Directory) Mark(ctx context.Context) (roster.Cursor, error) {
	link, err := d.Client.LatestDelta(ctx, d.fields())
	if err != nil {
		return roster.Cursor{}, err
	}
	return roster.Cursor{Kind: roster.CursorDelta, Server: d.Client.cfg.TenantID, Value: link}, nil
}

// Changed runs the delta round from since: the users changed since go to
// page as records, and the removed ones are kept for Deleted. A link the
// service no longer takes is roster.ErrChangesLost, before any page: the
// engine then reads everything.
func (d *Directory) Changed(ctx context.Context, since roster.Cursor, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	d.removed = nil
	_, err := d.Client.UsersDelta(ctx, since.Value, nil, func(p DeltaPage) error {
		for _, rm := range p.Removed {
			d.removed = append(d.removed, rm.ID)
		}
		return d.pageOf(p.Users, page, bad)
	})
	if errors.Is(err, ErrResync) {
		return &roster.Error{Code: roster.EUNAVAILABLE, Message: roster.ErrorMessage(err), Err: fmt.Errorf("%w: %w", roster.ErrChangesLost, err)}
	}
	return err
}

// Deleted returns the users the last Changed round reported removed,
// soft-deleted (restorable for 30 days) or gone for good: to roster both
// have left the tenant.
func (d *Directory) Deleted(context.Context, roster.Cursor) ([]string, error) {
	return d.removed, nil
}

// GroupsChanged says yes: roster does not track groups by delta yet, so
// an incremental run reads them whole.
func (d *Directory) GroupsChanged(context.Context, roster.Cursor) (bool, error) {
	return true, nil
}
