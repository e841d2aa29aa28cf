package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/rosterhq/roster"
)

// Needed are the application permissions roster's reads need.
var Needed = []string{"User.Read.All", "GroupMember.Read.All"}

// TokenRoles reads the roles claim of an app-only access token: the
// application permissions granted to the app, with admin consent. It is
// for a diagnosis only: Microsoft asks clients not to depend on a
// token's contents, and the token is used whatever it says. ok is false
// when the token cannot be read so.
func TokenRoles(token string) (roles []string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Roles []string `json:"roles"`
	}
	if err != nil || json.Unmarshal(b, &c) != nil {
		return nil, false
	}
	return c.Roles, true
}

// Discover reads the tenant's OpenID configuration from the token host:
// the host answers, and knows the tenant.
//
// Errors: EUNAVAILABLE when the host cannot be reached; EINVALID when
// it does not know the tenant.
func (c *Client) Discover(ctx context.Context) error {
	u := c.cfg.Cloud.AuthorityHost + "/" + url.PathEscape(c.cfg.TenantID) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return roster.Errorf(roster.EINVALID, "the token host %s is not a URL", c.cfg.Cloud.AuthorityHost)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &roster.Error{Code: roster.EUNAVAILABLE, Message: fmt.Sprintf("the token host %s could not be reached: %v", c.cfg.Cloud.AuthorityHost, unwrapURL(err)), Err: err}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if m := aadstsCode.FindStringSubmatch(string(body)); m != nil && m[1] == "90002" {
		return roster.Errorf(roster.EINVALID, "the token host does not know the tenant %s (AADSTS90002): check the tenant ID, and the cloud it lives in", c.cfg.TenantID)
	}
	return roster.Errorf(roster.EUNAVAILABLE, "the token host answered HTTP %d to the tenant's OpenID configuration", resp.StatusCode)
}

// Try reads one Graph path with its query (a diagnosis step), and
// returns the error a sync would meet there, or nil.
func (c *Client) Try(ctx context.Context, pathQuery string) error {
	// getPage, as a read: a 200 without a value list fails here too.
	_, err := c.getPage(ctx, c.cfg.Cloud.GraphHost+pathQuery)
	return err
}
