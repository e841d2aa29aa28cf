package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/graph"
)

// graph walks an Entra ID source's chain.
func (d Doctor) graph(ctx context.Context, src *roster.Source, c *chain) {
	dir, err := graph.Open(src)
	if err != nil {
		c.add(failed("credential", err, "give the app's certificate and key files, readable by roster"))
		return
	}
	cl := dir.Client
	if err := cl.Discover(ctx); err != nil {
		fix := "check that this machine reaches the token host over HTTPS (a proxy, a firewall), and the tenant ID"
		if roster.ErrorCode(err) == roster.EINVALID {
			fix = "give the Directory (tenant) ID from the app registration's Overview, and the cloud the tenant lives in"
		}
		c.add(failed("token host", err, fix))
		return
	}
	c.add(Step{Name: "token host", Status: Pass, Detail: "the token host answers and knows the tenant " + src.Graph.TenantID})
	token, err := cl.Token(ctx)
	if err != nil {
		c.add(failed("token", err, ""))
		return
	}
	c.add(Step{Name: "token", Status: Pass, Detail: "a token came for app " + src.Graph.ClientID})
	roles, ok := graph.TokenRoles(token)
	var missing []string
	for _, need := range graph.Needed {
		if !slices.Contains(roles, need) && !slices.Contains(roles, "Directory.Read.All") {
			missing = append(missing, need)
		}
	}
	switch {
	case !ok:
		c.add(Step{Name: "roles", Status: Warn, Detail: "the token's roles cannot be read; the next steps show whether the permissions are granted"})
	case len(missing) > 0:
		c.add(Step{Name: "roles", Status: Fail, Detail: fmt.Sprintf("the token carries %s; it lacks %s", orNone(roles), strings.Join(missing, " and ")),
			Fix: "in the app registration, API permissions: add the Microsoft Graph application permission " + strings.Join(missing, " and ") + ", then Grant admin consent; a permission without consent is not in the token"})
		return
	default:
		c.add(Step{Name: "roles", Status: Pass, Detail: "the token carries " + strings.Join(roles, ", ")})
	}
	for _, p := range []struct{ name, path, fix string }{
		{"users", "/v1.0/users?$top=1&$select=id,accountEnabled", "grant User.Read.All (application) and admin consent"},
		{"delta", "/v1.0/users/delta?$deltatoken=latest&$select=id", "grant User.Read.All (application) and admin consent; incremental runs read the delta query"},
		{"groups", "/v1.0/groups?$top=1&$select=id", "grant GroupMember.Read.All (application) and admin consent"},
	} {
		if err := cl.Try(ctx, p.path); err != nil {
			c.add(failed(p.name, err, p.fix))
			return
		}
		c.add(Step{Name: p.name, Status: Pass, Detail: "Microsoft Graph answers " + strings.SplitN(p.path, "?", 2)[0]})
	}
}

func orNone(roles []string) string {
	if len(roles) == 0 {
		return "no role"
	}
	return strings.Join(roles, ", ")
}
