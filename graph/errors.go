package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/rosterhq/roster"
)

// aadsts are the token endpoint's codes an admin meets, with what to fix
// ("Microsoft Entra authentication and authorization error codes").
var aadsts = map[int]struct {
	code, fix string
}{
	700016:  {roster.EUNAUTHORIZED, "no app with this client ID is registered in the tenant: check the application (client) ID and the tenant ID, and that the app is registered in this cloud"},
	7000215: {roster.EUNAUTHORIZED, "wrong client secret: give the secret's Value, shown once when it was made, not its Secret ID; or make a new secret under Certificates & secrets"},
	7000222: {roster.EUNAUTHORIZED, "the client secret has expired: make a new one under Certificates & secrets, or move to a certificate (roster cert new -for graph)"},
	700027:  {roster.EUNAUTHORIZED, "the app does not know this certificate: upload its .cer under Certificates & secrets of this app registration, and check that the key belongs to it"},
	700024:  {roster.EUNAUTHORIZED, "the certificate assertion is outside its valid time: set this machine's clock right (NTP)"},
	700021:  {roster.EUNAUTHORIZED, "the certificate assertion names another app than the client ID"},
	90002:   {roster.EINVALID, "no such tenant: check the tenant ID, and the cloud (global, US Gov, China) it lives in"},
	9001023: {roster.EINVALID, "give the organisation's tenant ID, not common or consumers"},
	500011:  {roster.EINVALID, "Microsoft Graph is not known in this tenant's cloud: check the cloud setting"},
	650057:  {roster.EFORBIDDEN, "the app asks for no Microsoft Graph permission: add " + needed + " (application) under API permissions, then grant admin consent"},
	7000112: {roster.EFORBIDDEN, "the app is disabled in the tenant: enable its enterprise application"},
	53003:   {roster.EFORBIDDEN, "a Conditional Access policy blocks the app: exclude its service principal from the policy that targets workload identities"},
	1002012: {roster.EINVALID, "the token request's scope is wrong (a fault in roster, not in the tenant)"},
}

var aadstsCode = regexp.MustCompile(`AADSTS(\d{4,8})`)

// tokenError turns azidentity's error into an admin's: the AADSTS code
// and its fix, or the token endpoint being out of reach. The secret is
// never in it: neither azidentity nor the endpoint echoes it.
func (c *Client) tokenError(err error) error {
	var afe *azidentity.AuthenticationFailedError
	text := err.Error()
	code := 0
	if errors.As(err, &afe) && afe.RawResponse != nil && afe.RawResponse.Body != nil {
		var body struct {
			Codes []int `json:"error_codes"`
		}
		if b, rerr := io.ReadAll(io.LimitReader(afe.RawResponse.Body, 1<<20)); rerr == nil && json.Unmarshal(b, &body) == nil && len(body.Codes) > 0 {
			code = body.Codes[0]
		}
	}
	if m := aadstsCode.FindStringSubmatch(text); code == 0 && m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	who := fmt.Sprintf("app %s in tenant %s", c.cfg.ClientID, c.cfg.TenantID)
	if f, ok := aadsts[code]; ok {
		return &roster.Error{Code: f.code, Message: fmt.Sprintf("Entra ID refused a token to the %s: %s (AADSTS%d)", who, f.fix, code), Err: err}
	}
	if code != 0 {
		return &roster.Error{Code: roster.EUNAUTHORIZED, Message: fmt.Sprintf("Entra ID refused a token to the %s (AADSTS%d); look the code up at https://login.microsoftonline.com/error?code=%d", who, code, code), Err: err}
	}
	return &roster.Error{Code: roster.EUNAVAILABLE, Message: fmt.Sprintf("no token from %s for the %s: the token endpoint could not be reached or did not answer", c.cfg.Cloud.AuthorityHost, who), Err: err}
}

// needed is what roster's reads need (Needed), for the
// Authorization_RequestDenied message.
var needed = strings.Join(Needed, " and ")

// graphError turns a Graph error answer into an admin's. Graph's code is
// the stable key ("Microsoft Graph error responses"); its message is for
// people and may change, so it decides nothing, but an answer roster has
// no words of its own for quotes it (the property Graph does not know,
// say).
func graphError(status int, body []byte, tries int) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	json.Unmarshal(body, &e)
	cause := fmt.Errorf("graph: HTTP %d %s: %s", status, e.Error.Code, e.Error.Message)
	var code, msg string
	switch {
	case status == 410 || e.Error.Code == "syncStateNotFound" || e.Error.Code == "resyncRequired":
		return &roster.Error{Code: roster.EUNAVAILABLE, Message: "Microsoft Graph no longer takes the delta link (" + e.Error.Code + "): it lives about 7 days, or the service reset it; the run reads every user instead", Err: fmt.Errorf("%w: %w", ErrResync, cause)}
	case e.Error.Code == "Authorization_RequestDenied" || status == 403:
		code, msg = roster.EFORBIDDEN, "Microsoft Graph refused the read: the app lacks an application permission. Grant "+needed+" (application permissions) under API permissions, then grant admin consent"
	case status == 401:
		code, msg = roster.EUNAUTHORIZED, "Microsoft Graph refused the token (HTTP 401 "+e.Error.Code+"); check that the app is registered in the tenant's cloud"
	case status == 429:
		code, msg = roster.EUNAVAILABLE, fmt.Sprintf("Microsoft Graph kept throttling the read (HTTP 429, %d tries); the run stops and removes nobody; it will go on at the next run", tries)
	case status >= 500:
		code, msg = roster.EUNAVAILABLE, fmt.Sprintf("Microsoft Graph was unavailable (HTTP %d, %d tries); the run stops and removes nobody", status, tries)
	case e.Error.Code == "Directory_ExpiredPageToken":
		code, msg = roster.EUNAVAILABLE, "Microsoft Graph no longer accepts the page token of this read (Directory_ExpiredPageToken); the run stops and removes nobody; run it again"
	default:
		code, msg = roster.EINVALID, fmt.Sprintf("Microsoft Graph refused the request (HTTP %d %s)", status, e.Error.Code)
		if m := strings.TrimSpace(e.Error.Message); m != "" {
			if len(m) > 300 {
				m = strings.ToValidUTF8(m[:300], "") + "…"
			}
			msg += ": " + m
		}
	}
	return &roster.Error{Code: code, Message: msg, Err: cause}
}
