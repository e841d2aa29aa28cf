package graph

import (
	"context"

	"github.com/rosterhq/roster"
)

// Survey is what a connection test finds in a tenant: that a token came,
// and the users and disabled users a sync would see, counted as a sync
// reads them.
type Survey struct {
	Tenant   string `json:"tenant"`
	ClientID string `json:"client_id"`
	Graph    string `json:"graph"` // the Graph host read
	Users    int    `json:"users"`
	Disabled int    `json:"disabled"`
	Pages    int    `json:"pages"`
}

// Survey gets a token and counts the tenant's users.
func (d *Directory) Survey(ctx context.Context) (*Survey, error) {
	if _, err := d.Client.Token(ctx); err != nil {
		return nil, err
	}
	s := &Survey{Tenant: d.Client.cfg.TenantID, ClientID: d.Client.cfg.ClientID, Graph: d.Client.cfg.Cloud.GraphHost}
	err := d.Users(ctx, func(p []roster.Record) error {
		s.Pages++
		for _, r := range p {
			s.Users++
			if r.Disabled {
				s.Disabled++
			}
		}
		return nil
	}, func(roster.EntryError) error { s.Users++; return nil })
	if err != nil {
		return nil, err
	}
	return s, nil
}
