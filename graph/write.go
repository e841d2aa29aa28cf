package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rosterhq/roster"
)

// SetProperty writes value to a user's property (path: a nested one with
// a slash, as onPremisesExtensionAttributes/extensionAttribute6), unless
// it holds the value already, and says whether it wrote. It needs the
// application permission User.ReadWrite.All.
//
// Errors: EFORBIDDEN naming the permission, or why Entra ID keeps the
// property (a user synced from on-premises AD); the errors of a read.
// No error holds value: the value may be a print code, and Graph's
// answer, which errors quote or keep as their cause, may repeat it.
func (c *Client) SetProperty(ctx context.Context, userID, path, value string) (bool, error) {
	wrote, err := c.setProperty(ctx, userID, path, value)
	return wrote, withoutValue(err, value)
}

// withoutValue returns err with every mention of value, in its message
// and its cause, replaced by "(the value)".
func withoutValue(err error, value string) error {
	if err == nil || value == "" || !strings.Contains(err.Error(), value) {
		return err
	}
	hide := func(s string) string { return strings.ReplaceAll(s, value, "(the value)") }
	var e *roster.Error
	if errors.As(err, &e) {
		out := *e
		out.Message = hide(e.Message)
		if e.Err != nil {
			out.Err = errors.New(hide(e.Err.Error()))
		}
		return &out
	}
	return errors.New(hide(err.Error()))
}

func (c *Client) setProperty(ctx context.Context, userID, path, value string) (bool, error) {
	top, leaf, nested := strings.Cut(path, "/")
	base := c.cfg.Cloud.GraphHost + "/v1.0/users/" + url.PathEscape(userID)
	var cur Object
	if err := c.get(ctx, base+"?"+url.Values{"$select": {top}}.Encode(), &cur); err != nil {
		return false, err
	}
	if cur.String(path) == value {
		return false, nil
	}
	var body any = map[string]any{top: value}
	if nested {
		body = map[string]any{top: map[string]any{leaf: value}}
	}
	b, _ := json.Marshal(body)
	resp, answer, tries, err := c.do(ctx, http.MethodPatch, base, b)
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return true, nil
	case http.StatusForbidden:
		return false, &roster.Error{Code: roster.EFORBIDDEN, Message: "Microsoft Graph refused the write: grant the app User.ReadWrite.All (application) and admin consent, or leave write-back off", Err: fmt.Errorf("graph: HTTP 403 on PATCH: %s", answer)}
	case http.StatusBadRequest:
		// Only a user mastered on-premises is this; a wrong property or
		// a missing extension is Graph's own error, said as such.
		if strings.Contains(strings.ToLower(string(answer)), "on-premises") {
			return false, &roster.Error{Code: roster.EFORBIDDEN, Message: fmt.Sprintf("Entra ID refused to change %s of this user: a user synced from on-premises AD is changed there (or in Exchange), not through Graph; write to a directory extension instead, or leave write-back off", path), Err: fmt.Errorf("graph: HTTP 400 on PATCH: %s", answer)}
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		// graphError's words are a read's ("the run stops").
		return false, &roster.Error{Code: roster.EUNAVAILABLE, Message: fmt.Sprintf("Microsoft Graph kept refusing the write of %s (HTTP %d, %d tries); it was not written: try again later", path, resp.StatusCode, tries), Err: fmt.Errorf("graph: HTTP %d on PATCH: %s", resp.StatusCode, answer)}
	}
	return false, graphError(resp.StatusCode, answer, tries)
}

// CanWrite says whether an app with these application permissions (a
// token's roles) may update users: User.ReadWrite.All, or the wider
// Directory.ReadWrite.All, which Graph's "Update user" also takes.
func CanWrite(roles []string) bool {
	return slices.Contains(roles, "User.ReadWrite.All") || slices.Contains(roles, "Directory.ReadWrite.All")
}
