package ldap

import (
	"context"
	"slices"
)

// OIDs that tell directories apart in the rootDSE.
const (
	oidADCapability = "1.2.840.113556.1.4.800"   // LDAP_CAP_ACTIVE_DIRECTORY_OID
	oidPagedResults = "1.2.840.113556.1.4.319"   // RFC 2696 paged results
	oidContentSync  = "1.3.6.1.4.1.4203.1.9.1.1" // RFC 4533 sync request control
	oidShowDeleted  = "1.2.840.113556.1.4.417"   // LDAP_SERVER_SHOW_DELETED_OID
)

// RootDSE is what the directory says about itself before any search.
type RootDSE struct {
	Vendor              string // "Active Directory", "OpenLDAP", or the vendorName
	VendorVersion       string
	NamingContexts      []string
	DefaultNamingCtx    string // AD only
	DNSHostName         string // AD only
	DSServiceName       string // AD only: the DC's identity, for incremental sync
	HighestUSN          string // AD only: highestCommittedUSN
	SupportedControls   []string
	SupportsPaging      bool
	SupportsContentSync bool // OpenLDAP syncprov
	IsAD                bool
}

// RootDSE reads the root DSE.
func (c *Conn) RootDSE(ctx context.Context) (*RootDSE, error) {
	e, err := c.Get(ctx, "", "objectClass", "namingContexts", "defaultNamingContext", "dnsHostName",
		"dsServiceName", "highestCommittedUSN", "supportedControl", "supportedCapabilities",
		"vendorName", "vendorVersion", "supportedExtension")
	if err != nil {
		return nil, err
	}
	if e == nil {
		e = &Entry{}
	}
	r := &RootDSE{
		VendorVersion:     e.Value("vendorVersion"),
		NamingContexts:    e.Values("namingContexts"),
		DefaultNamingCtx:  e.Value("defaultNamingContext"),
		DNSHostName:       e.Value("dnsHostName"),
		DSServiceName:     e.Value("dsServiceName"),
		HighestUSN:        e.Value("highestCommittedUSN"),
		SupportedControls: e.Values("supportedControl"),
	}
	r.IsAD = slices.Contains(e.Values("supportedCapabilities"), oidADCapability)
	r.SupportsPaging = slices.Contains(r.SupportedControls, oidPagedResults)
	r.SupportsContentSync = slices.Contains(r.SupportedControls, oidContentSync)
	switch {
	case r.IsAD:
		r.Vendor = "Active Directory"
	case slices.Contains(e.Values("objectClass"), "OpenLDAProotDSE"):
		r.Vendor = "OpenLDAP"
	default:
		r.Vendor = e.Value("vendorName")
	}
	return r, nil
}
