package roster

import (
	"net/url"
	"strings"
)

// GraphApp is the app registration an Entra ID source (type EntraID)
// reads Microsoft Graph with: the tenant, the client, where the tenant
// lives, and the app's certificate credential. A client secret, when the
// app has no certificate, is the source's Password, sealed at rest as
// bind passwords are.
//
// The certificate and key stay in files on the machine that syncs (PEM,
// the key readable by roster alone), as roster cert new -for graph
// writes them; the settings name the files.
type GraphApp struct {
	TenantID string `json:"tenant_id,omitempty"` // the directory (tenant) ID, a GUID
	ClientID string `json:"client_id,omitempty"` // the application (client) ID, a GUID
	// Cloud is global (the default, GCC included), usgov, usdod or china.
	Cloud string `json:"cloud,omitempty"`
	// AuthorityHost and GraphHost replace the cloud's hosts (https
	// URLs): for a sovereign cloud roster does not list, or a test
	// double. Both or neither.
	AuthorityHost string `json:"authority_host,omitempty"`
	GraphHost     string `json:"graph_host,omitempty"`
	CertFile      string `json:"cert_file,omitempty"` // the app's certificate, PEM
	KeyFile       string `json:"key_file,omitempty"`  // its RSA key, PEM, unencrypted, mode 0600
}

// GraphClouds are the clouds GraphApp.Cloud names.
var GraphClouds = []string{"global", "usgov", "usdod", "china"}

func (g GraphApp) validate() error {
	for _, f := range []struct{ name, v string }{{"tenant ID", g.TenantID}, {"client ID", g.ClientID}, {"certificate file", g.CertFile}, {"key file", g.KeyFile}} {
		if err := CheckText(f.name, f.v); err != nil {
			return err
		}
	}
	switch {
	case g.TenantID == "":
		return Errorf(EINVALID, "give the tenant ID: the Directory (tenant) ID on the app registration's Overview, a GUID")
	case strings.EqualFold(g.TenantID, "common") || strings.EqualFold(g.TenantID, "organizations") || strings.EqualFold(g.TenantID, "consumers"):
		return Errorf(EINVALID, "%q is not one tenant: give the organisation's Directory (tenant) ID, a GUID", g.TenantID)
	case !isGUID(g.TenantID) && !ValidDomain(g.TenantID):
		return Errorf(EINVALID, "the tenant ID %q is neither a GUID nor a domain such as contoso.onmicrosoft.com", g.TenantID)
	case g.ClientID == "":
		return Errorf(EINVALID, "give the client ID: the Application (client) ID on the app registration's Overview, a GUID")
	case !isGUID(g.ClientID):
		return Errorf(EINVALID, "the client ID %q is not a GUID; it is the Application (client) ID, not the app's name or its secret's ID", g.ClientID)
	case (g.CertFile == "") != (g.KeyFile == ""):
		return Errorf(EINVALID, "give both the app's certificate file and its key file")
	case (g.AuthorityHost == "") != (g.GraphHost == ""):
		return Errorf(EINVALID, "give both the authority host and the Graph host, or neither")
	}
	if g.Cloud != "" && !containsFold(GraphClouds, g.Cloud) {
		return Errorf(EINVALID, "the cloud %q is not one of %s", g.Cloud, strings.Join(GraphClouds, ", "))
	}
	for _, h := range []string{g.AuthorityHost, g.GraphHost} {
		if u, err := url.Parse(h); h != "" && (err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/")) {
			return Errorf(EINVALID, "the host %q must be an https:// URL with no path", h)
		}
	}
	return nil
}

// isGUID reports whether s has the form of a GUID,
// 8c7a1c8e-2f4b-4d3e-9a61-0d2b7e3f1a55.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
