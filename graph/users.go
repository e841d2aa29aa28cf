package graph

import (
	"context"
	"net/url"
	"strings"

	"github.com/rosterhq/roster"
)

// Object is one directory object as Graph returns it: its properties by
// name, a nested object's (onPremisesExtensionAttributes,
// employeeOrgData) as a map.
type Object map[string]any

// ID is the object's ID, the anchor of an Entra ID user.
func (o Object) ID() string { s, _ := o["id"].(string); return s }

// String is the text of a property; path names a nested one with a
// slash, as "employeeOrgData/costCenter". A missing or null property, or
// one that is not text, is "".
func (o Object) String(path string) string {
	var v any = map[string]any(o)
	for _, name := range strings.Split(path, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[name]
	}
	s, _ := v.(string)
	return s
}

// page is one page of a Graph collection.
type page struct {
	Value []Object `json:"value"`
	Next  string   `json:"@odata.nextLink"`
	Delta string   `json:"@odata.deltaLink"`
}

// getPage reads one page of a collection. A page must say what it holds
// (its value, empty or not) and may lead on only to Graph's own host
// (the token goes with a next link): an answer without a value, say
// from a proxy, would otherwise end a read as if it were complete.
func (c *Client) getPage(ctx context.Context, url string) (page, error) {
	var p page
	if err := c.get(ctx, url, &p); err != nil {
		return p, err
	}
	if p.Value == nil {
		return p, roster.Errorf(roster.EUNAVAILABLE, "Microsoft Graph answered a page that holds no value list; the read is not proved complete, so it stops and removes nobody")
	}
	for _, l := range []struct{ what, url string }{{"a next page", p.Next}, {"a delta link", p.Delta}} {
		if l.url != "" && !c.onGraph(l.url) {
			return p, roster.Errorf(roster.EUNAVAILABLE, "Microsoft Graph gave %s on another host (%s); roster does not send its token there, so the read stops and removes nobody", l.what, hostOf(l.url))
		}
	}
	return p, nil
}

// MaxPages bounds one read: 999 objects a page, this many pages hold
// 99.9 million, more than a tenant holds; a server that never stops
// giving nextLinks fails the read instead of holding it for ever.
const MaxPages = 100000

// Users reads every user of the tenant with the properties in fields
// ($select; id always comes), 999 a page, and hands each page to fn as
// it comes. It returns nil only when the last page was read: a read cut
// anywhere is an error, never a shorter answer.
func (c *Client) Users(ctx context.Context, fields []string, fn func([]Object) error) error {
	q := url.Values{"$top": {"999"}}
	if len(fields) > 0 {
		q.Set("$select", strings.Join(fields, ","))
	}
	return c.pages(ctx, c.cfg.Cloud.GraphHost+"/v1.0/users?"+q.Encode(), fn)
}

// pages reads a collection from its first page's URL, following each
// @odata.nextLink, and hands each page to fn. It returns nil only when a
// page had no nextLink.
func (c *Client) pages(ctx context.Context, next string, fn func([]Object) error) error {
	for n := 0; next != ""; n++ {
		if n == MaxPages {
			return roster.Errorf(roster.EUNAVAILABLE, "Microsoft Graph gave more than %d pages of one collection; the read stops and removes nobody", MaxPages)
		}
		p, err := c.getPage(ctx, next)
		if err != nil {
			return err
		}
		if err := fn(p.Value); err != nil {
			return err
		}
		next = p.Next
	}
	return nil
}

func hostOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "an unreadable URL"
	}
	return u.Host
}
