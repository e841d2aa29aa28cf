package ldap

import (
	"context"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// MaxPageSize is AD's MaxPageSize, the most entries a page may hold. The
// lab's OpenLDAP enforces the same limit; Entra DS does too.
const MaxPageSize = 1000

// maxPages bounds a paged search: 100,000 pages of 1,000 is 100 million
// entries, far beyond any directory roster syncs. A server that keeps
// handing out cookies past that is broken, and the search fails.
const maxPages = 100_000

// Scope of a search.
type Scope int

const (
	ScopeBase    Scope = goldap.ScopeBaseObject
	ScopeOne     Scope = goldap.ScopeSingleLevel
	ScopeSubtree Scope = goldap.ScopeWholeSubtree
)

// SearchRequest is one search. Attributes lists what to fetch; "1.1"
// alone fetches none (RFC 4511), for counting.
type SearchRequest struct {
	BaseDN     string
	Scope      Scope
	Filter     string
	Attributes []string
	PageSize   int // 0 or above MaxPageSize means MaxPageSize
	// ShowDeleted asks AD for deleted objects too (LDAP_SERVER_SHOW_DELETED_OID).
	ShowDeleted bool
}

// SearchStats says what a search read.
type SearchStats struct {
	Entries   int
	Pages     int
	Referrals int // continuation references, ignored (AD returns them for the Configuration partition)
}

// Entry is one directory entry. Attribute names are matched without
// regard to case, as LDAP does.
type Entry struct {
	DN string
	// attrs in the order the server sent them, one per name: values sent
	// under names that differ only in case are joined under the first.
	// An entry holds a dozen attributes: a list searched in order beats
	// a map, and a name spelt as the server spelt it is found without
	// folding its case.
	attrs []entryAttr
}

type entryAttr struct {
	name   string
	values [][]byte
}

func newEntry(e *goldap.Entry) *Entry {
	out := &Entry{DN: e.DN, attrs: make([]entryAttr, 0, len(e.Attributes))}
	for _, a := range e.Attributes {
		out.add(a.Name, a.ByteValues)
	}
	return out
}

// add appends values to the attribute name.
func (e *Entry) add(name string, values [][]byte) {
	if a := e.find(name); a != nil {
		a.values = append(a.values, values...)
		return
	}
	e.attrs = append(e.attrs, entryAttr{name: name, values: values})
}

// find returns the attribute attr, nil when the entry has none.
func (e *Entry) find(attr string) *entryAttr {
	for i := range e.attrs {
		if e.attrs[i].name == attr {
			return &e.attrs[i]
		}
	}
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].name, attr) {
			return &e.attrs[i]
		}
	}
	return nil
}

// Values returns the values of an attribute as strings.
func (e *Entry) Values(attr string) []string {
	a := e.find(attr)
	if a == nil {
		return []string{}
	}
	out := make([]string, len(a.values))
	for i, v := range a.values {
		out[i] = string(v)
	}
	return out
}

// Value returns the first value of an attribute, or "".
func (e *Entry) Value(attr string) string {
	if a := e.find(attr); a != nil && len(a.values) > 0 {
		return string(a.values[0])
	}
	return ""
}

// Raw returns the first value of an attribute as bytes (objectGUID).
func (e *Entry) Raw(attr string) []byte {
	if a := e.find(attr); a != nil && len(a.values) > 0 {
		return a.values[0]
	}
	return nil
}

// Names returns the attribute names the server sent, as it spelt them.
func (e *Entry) Names() []string {
	out := make([]string, len(e.attrs))
	for i, a := range e.attrs {
		out[i] = a.name
	}
	return out
}

// Search runs a paged search and hands each entry to fn as it arrives, so
// memory does not grow with the size of the directory. Pages hold at most
// MaxPageSize entries. When fn returns an error the search stops, the
// server is told to drop the paged result, and that error is returned.
// Each page must arrive within the source's request timeout.
//
// Errors: ENOTFOUND when the base DN does not exist, EFORBIDDEN when the
// account may not read it, EUNAVAILABLE on a dropped connection, a
// timeout, or a server-side limit; ctx's error when ctx ends.
func (c *Conn) Search(ctx context.Context, req SearchRequest, fn func(*Entry) error) (SearchStats, error) {
	var st SearchStats
	size := req.PageSize
	if size <= 0 || size > MaxPageSize {
		size = MaxPageSize
	}
	paging := goldap.NewControlPaging(uint32(size))
	for st.Pages < maxPages {
		cookie, err := c.page(ctx, req, paging, &st, fn)
		if err != nil {
			// After a page or more, the server holds the paged result
			// until told to drop it, unless the connection is gone.
			if len(paging.Cookie) > 0 && ctx.Err() == nil && roster.ErrorCode(err) != roster.EUNAVAILABLE {
				c.abandonPaging(req, paging)
			}
			return st, err
		}
		st.Pages++
		if len(cookie) == 0 {
			return st, nil
		}
		paging.SetCookie(cookie)
	}
	c.abandonPaging(req, paging)
	return st, errTooManyPages(req.BaseDN, maxPages)
}

// page reads one page and returns the cookie for the next one, empty
// after the last page. It reads through streamed, so a page counts only
// when the directory's SearchResultDone carried the paging control.
func (c *Conn) page(ctx context.Context, req SearchRequest, paging *goldap.ControlPaging, st *SearchStats, fn func(*Entry) error) ([]byte, error) {
	done, err := c.streamed(ctx, req.BaseDN, pageWhat(req.BaseDN, st.Pages+1, st.Entries), c.request(req, paging), goldap.ControlTypePaging,
		func(r goldap.Response) error {
			if e := r.Entry(); e != nil {
				ents, err := c.entries(e)
				if err != nil {
					return c.readError(req.BaseDN, pageWhat(req.BaseDN, st.Pages+1, st.Entries), err)
				}
				for _, ent := range ents {
					st.Entries++
					if err := fn(ent); err != nil {
						return err
					}
				}
				return nil
			}
			if r.Referral() != "" {
				st.Referrals++
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	p, ok := done.(*goldap.ControlPaging)
	if !ok {
		return nil, c.readError(req.BaseDN, pageWhat(req.BaseDN, st.Pages+1, st.Entries), errIncomplete)
	}
	return p.Cookie, nil
}

func (c *Conn) request(req SearchRequest, paging *goldap.ControlPaging) *goldap.SearchRequest {
	filter := req.Filter
	if filter == "" {
		filter = "(objectClass=*)"
	}
	attrs := req.Attributes
	if len(attrs) == 0 {
		attrs = []string{"1.1"}
	}
	var controls []goldap.Control
	if paging != nil { // nil: a single request without paging
		controls = []goldap.Control{paging}
	}
	if req.ShowDeleted {
		controls = append(controls, goldap.NewControlString(oidShowDeleted, true, ""))
	}
	return goldap.NewSearchRequest(req.BaseDN, int(req.Scope), goldap.NeverDerefAliases,
		0, 0, false, filter, attrs, controls)
}

// Get reads one entry by DN with a base-scope search, without paging.
// It returns nil and no error when the entry does not exist.
func (c *Conn) Get(ctx context.Context, dn string, attrs ...string) (*Entry, error) {
	req := c.request(SearchRequest{BaseDN: dn, Scope: ScopeBase, Attributes: attrs}, nil)
	entries, err := c.single(ctx, dn, getWhat(dn), req)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, nil
	}
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	ents, err := c.entries(entries[0])
	if err != nil {
		return nil, c.readError(dn, getWhat(dn), err)
	}
	return ents[0], nil
}
