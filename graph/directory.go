package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/rosterhq/roster"
)

// Directory reads an Entra ID tenant as a sync source: users mapped to
// records, and groups with their members through nesting.
type Directory struct {
	Client *Client
	// Mapping names Graph property paths, a nested one with a slash
	// (employeeOrgData/costCenter); roster.DefaultMapping(roster.EntraID)
	// is the preset.
	Mapping roster.Mapping

	removed []string // the IDs the last delta round reported removed
}

// fields are the properties the mapping reads: only those are asked
// for ($select), and accountEnabled always, which says who is disabled.
func (d *Directory) fields() []string {
	m := d.Mapping
	seen := map[string]bool{"id": true}
	var out []string
	for _, p := range append([]string{string(m.Login), m.Name, m.Email, m.Department, m.CostCenter, m.PrintCode, "accountEnabled"}, append(m.Cards, m.Extra...)...) {
		top, _, _ := strings.Cut(p, "/") // a nested property is selected whole
		if top != "" && !seen[top] {
			seen[top] = true
			out = append(out, top)
		}
	}
	return out
}

// Users reads every user, 999 a page, and hands page each page of
// records; an object that cannot become a record goes to bad. It returns
// nil only when the last page was read.
func (d *Directory) Users(ctx context.Context, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	return d.Client.Users(ctx, d.fields(), func(objs []Object) error {
		return d.pageOf(objs, page, bad)
	})
}

// pageOf maps a page of user objects and hands the records to page, the
// objects that cannot be records to bad.
func (d *Directory) pageOf(objs []Object, page func([]roster.Record) error, bad func(roster.EntryError) error) error {
	recs := make([]roster.Record, 0, len(objs))
	for _, o := range objs {
		rec, problem := d.record(o)
		if problem != "" {
			if err := bad(roster.EntryError{DN: rec.DN, Message: problem}); err != nil {
				return err
			}
			continue
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil
	}
	return page(recs)
}

// record maps one user object; a non-empty problem says why it cannot
// be a record. The DN, which groups name their members by, is the
// object's ID: Entra ID has no DN, and the ID never changes.
func (d *Directory) record(o Object) (roster.Record, string) {
	m := d.Mapping
	rec := roster.Record{Anchor: o.ID(), DN: o.ID()}
	if rec.Anchor == "" {
		return rec, "Microsoft Graph returned a user without an id"
	}
	enabled, ok := o["accountEnabled"].(bool)
	if !ok {
		// Without it a disabled account would look active.
		return rec, "Microsoft Graph returned the user without accountEnabled; roster cannot tell whether the account is disabled"
	}
	rec.Disabled = !enabled
	raw := o.String(string(m.Login))
	if !m.KeepLoginCase {
		raw = strings.ToLower(raw)
	}
	rec.Login = roster.NormalizeLogin(raw)
	if rec.Login == "" {
		return rec, fmt.Sprintf("the user has no %s, which the login is made from", m.Login)
	}
	rec.Name, rec.Email = o.String(m.Name), o.String(m.Email)
	rec.Department, rec.CostCenter = o.String(m.Department), o.String(m.CostCenter)
	rec.PrintCode = o.String(m.PrintCode)
	var cards []string
	for _, p := range m.Cards {
		if v := o.String(p); v != "" {
			cards = append(cards, v)
		}
	}
	rec.Cards, rec.CardProblems = m.CardsOf(cards)
	for _, p := range m.Extra {
		if v := o.String(p); v != "" {
			if rec.Extra == nil {
				rec.Extra = map[string][]string{}
			}
			rec.Extra[p] = []string{v}
		}
	}
	return rec, ""
}

// Groups reads every group and, for each, its members through nesting
// (transitiveMembers): the users among them, by ID; devices, contacts
// and service principals are not print users.
func (d *Directory) Groups(ctx context.Context) ([]roster.GroupRecord, error) {
	var groups []roster.GroupRecord
	q := url.Values{"$select": {"id,displayName"}, "$top": {"999"}}
	err := d.Client.pages(ctx, d.Client.cfg.Cloud.GraphHost+"/v1.0/groups?"+q.Encode(), func(objs []Object) error {
		for _, o := range objs {
			groups = append(groups, roster.GroupRecord{Anchor: o.ID(), DN: o.ID(), Name: o.String("displayName")})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range groups {
		q := url.Values{"$select": {"id"}, "$top": {"999"}}
		link := d.Client.cfg.Cloud.GraphHost + "/v1.0/groups/" + url.PathEscape(groups[i].Anchor) + "/transitiveMembers?" + q.Encode()
		err := d.Client.pages(ctx, link, func(objs []Object) error {
			for _, o := range objs {
				if o.String("@odata.type") == "#microsoft.graph.user" {
					groups[i].MemberDNs = append(groups[i].MemberDNs, o.ID())
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return groups, nil
}
