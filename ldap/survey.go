package ldap

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// Survey is what a connection test found: the TLS session and the
// directory's certificate, the sign-in, the server, and how many users a
// sync of the source would read. Its JSON is roster connect -json's.
type Survey struct {
	Type        roster.DirectoryType `json:"type"`
	URL         string               `json:"url"`
	TLSVersion  string               `json:"tls_version,omitempty"`
	Verified    string               `json:"certificate_verified_by"` // chain, pin or none
	Certificate *pfx.Summary         `json:"certificate,omitempty"`
	Login       string               `json:"login"`
	Directory   string               `json:"directory"`
	Host        string               `json:"directory_host,omitempty"`
	Bases       []BaseCount          `json:"bases"`
	Users       int                  `json:"users"`
	// Disabled is nil for a dialect without disabled accounts (OpenLDAP).
	Disabled *int     `json:"disabled_users,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// BaseCount is how many users one search base holds, and in how many
// pages the directory sent them.
type BaseCount struct {
	DN    string `json:"dn"`
	Users int    `json:"users"`
	Pages int    `json:"pages"`
}

// Survey dials, binds, reads the rootDSE and counts the users under each
// of src's search bases with a paged search that fetches no attributes
// but those the source's dialect reads to tell a disabled account. A user
// is disabled here exactly when a sync's record of it is (Dialect.Disabled
// at the Dialer's clock), so roster connect and roster sync agree.
// Overlapping bases (one inside another) count an entry under each, but
// once in Users, as a sync reads it once. log takes the sign-in; nil
// discards it.
//
// Warnings holds the source's own (roster.Source.Warnings), then a
// certificate that expires within 30 days, a type that does not match
// the server, and a search that found nobody.
//
// Errors: as Dial, Bind, Conn.RootDSE and Conn.Search.
func (dl Dialer) Survey(ctx context.Context, src *roster.Source, log *slog.Logger) (*Survey, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	url, _ := src.URL()
	s := &Survey{Type: src.Type, URL: url, Warnings: src.Warnings()}
	c, err := dl.Dial(ctx, src)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s.Verified = c.Verified()
	if st := c.TLS(); st != nil {
		s.TLSVersion = tls.VersionName(st.Version)
		if len(st.PeerCertificates) > 0 {
			s.Certificate = pfx.Summarize(st.PeerCertificates[0], c.now())
			if w := roster.DirectoryCertificateWarning(src.Type, s.Certificate.NotAfter, c.now()); w != "" {
				s.Warnings = append(s.Warnings, w)
			}
		}
	}
	if err := c.Bind(ctx); err != nil {
		return nil, err
	}
	s.Login, _ = src.BindName()
	log.Info("signed in", "url", url, "login", s.Login, "verified", s.Verified)

	dse, err := c.RootDSE(ctx)
	if err != nil {
		return nil, err
	}
	s.Directory, s.Host = dse.Vendor, dse.DNSHostName
	if !DialectOf(src.Type).Serves(dse) {
		s.Warnings = append(s.Warnings, fmt.Sprintf("the source is set up as %s but the server says it is %s; pick the matching directory type", src.Type, dse.Vendor))
	}
	d := &Directory{src: src, conn: c, rootDSE: dse, log: log, now: c.now}
	if err := d.count(ctx, s); err != nil {
		return nil, err
	}
	if s.Users == 0 {
		s.Warnings = append(s.Warnings, "no users found: check the base DN and the filter, and that the account may read the users (a bind that may not read sees nothing and gets no error)")
	}
	return s, nil
}

// count fills s.Bases, s.Users and s.Disabled.
func (d *Directory) count(ctx context.Context, s *Survey) error {
	dl := d.dialect()
	attrs := []string{"1.1"} // no attributes: the DN is enough to count
	if dl.HasDisabled() {
		attrs = slices.Clone(dl.DisabledAttrs)
		s.Disabled = new(int)
	}
	counted := map[string]bool{}
	for _, base := range d.src.SearchBases() {
		bc := BaseCount{DN: base}
		st, err := d.conn.Search(ctx, SearchRequest{
			BaseDN: base, Scope: ScopeSubtree, Filter: dl.UserFilter(d.src.UserFilter), Attributes: attrs,
		}, func(e *Entry) error {
			bc.Users++
			k := roster.DNKey(e.DN)
			if counted[k] {
				return nil
			}
			counted[k] = true
			s.Users++
			if s.Disabled != nil && dl.Disabled(e, d.now()) {
				*s.Disabled++
			}
			return nil
		})
		if err != nil {
			return err
		}
		bc.Pages = st.Pages
		s.Bases = append(s.Bases, bc)
	}
	return nil
}
