package runner

import (
	"context"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
)

// Move plans, and with apply carries out, the move of the Entra DS
// source sourceID onto the Entra ID tenant to describes (roster.PlanMove,
// sqlstore.DB.Rebind). It removes nobody. With apply, a source with
// settings takes to's directory settings and keeps its own schedule,
// removal policy and card steps.
//
// Errors: EINVALID when the source is not an Entra DS one, or to not
// an entra-id one; the Graph read's errors.
func (r *Runner) Move(ctx context.Context, sourceID int64, to *roster.Source, apply bool) (*roster.MoveResult, error) {
	if to.Type != roster.EntraID {
		return nil, roster.Errorf(roster.EINVALID, "a source moves to Entra ID only (type entra-id)")
	}
	from, err := r.Store.Source(ctx, sourceID)
	res := &roster.MoveResult{Stored: err == nil}
	switch {
	case roster.ErrorCode(err) == roster.ENOTFOUND: // synced from a configuration or the command line
	case err != nil:
		return nil, err
	case from.Type == roster.EntraID:
		return nil, roster.Errorf(roster.EINVALID, "the source %s reads Entra ID already", from.Name)
	case from.Type != roster.EntraDS:
		return nil, roster.Errorf(roster.EINVALID, "the source %s is %s; only an Entra Domain Services source moves to Entra ID", from.Name, from.Type.Label())
	}
	var users []*roster.User
	if err := r.Store.Users(ctx, sourceID, func(u *roster.User) error { users = append(users, u); return nil }); err != nil {
		return nil, err
	}
	dir, err := graph.Open(to)
	if err != nil {
		return nil, err
	}
	var objects []roster.EntraObject
	err = dir.Client.Users(ctx, []string{"userPrincipalName", "mail", "employeeId"}, func(p []graph.Object) error {
		for _, o := range p {
			objects = append(objects, roster.EntraObject{ID: o.ID(), UPN: o.String("userPrincipalName"), Mail: o.String("mail"), EmployeeID: o.String("employeeId")})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.MovePlan, res.Users, res.Objects = roster.PlanMove(users, objects), len(users), len(objects)
	if !apply {
		return res, nil
	}
	// The source's new settings are made and checked first, for errors
	// that say what to do; Rebind saves them with the users.
	var next roster.Source
	if res.Stored {
		next = *to
		next.ID, next.Name = sourceID, from.Name
		next.FullSchedule, next.IncrementalInterval, next.Removal, next.DisabledUsers = from.FullSchedule, from.IncrementalInterval, from.Removal, from.DisabledUsers
		next.Mapping.CardTransforms = from.Mapping.CardTransforms
		if err := next.Validate(); err != nil {
			return nil, err
		}
		if next.Password.IsSet() && r.Store.Sealer == nil {
			return nil, roster.Errorf(roster.EUNAVAILABLE, "the client secret cannot be stored: no secret key is configured for the data folder; set one (secret.key or ROSTER_SECRET_KEY), or use a certificate, then move again")
		}
	}
	if len(res.Matched) == 0 {
		return nil, roster.Errorf(roster.EINVALID, "no user of the source matched an Entra ID user, so nothing was moved: check that the tenant is the one Entra DS copies, and that the source synced since roster recorded msDS-aadObjectId (sync it, then plan again)")
	}
	// Under the source's lease, as a sync: a sync still running would
	// otherwise finish after the rebind, find every rebound user gone
	// and write back the cursor the rebind cleared.
	name := to.Name
	if res.Stored {
		name = from.Name
	}
	claim, err := ClaimSource(ctx, r.Store, r.Log, "", sourceID, name, NodeID(), DefaultLeaseTTL)
	if err != nil {
		return nil, err
	}
	defer claim.Release()
	ctx = claim.Ctx
	// The users and the settings move in one transaction: both or neither.
	var settings *roster.Source
	if res.Stored {
		settings = &next
	}
	if res.Rebound, err = r.Store.Rebind(ctx, sourceID, res.Matched, settings); err != nil {
		return nil, err
	}
	res.Applied = true
	return res, nil
}

// Move is Runner.Move, for the API.
func (s *Service) Move(ctx context.Context, sourceID int64, to *roster.Source, apply bool) (*roster.MoveResult, error) {
	return s.r.Move(ctx, sourceID, to, apply)
}
