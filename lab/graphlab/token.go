package graphlab

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// openIDConfiguration answers a tenant's OpenID configuration, from
// which MSAL takes the token endpoint (Microsoft identity platform,
// "OpenID Connect on the Microsoft identity platform": the document at
// {authority}/{tenant}/v2.0/.well-known/openid-configuration).
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if tenant != s.TenantID {
		stsError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
		return
	}
	base := s.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer":                 base + "/v2.0",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	})
}

// token answers the client credentials grant ("Microsoft identity
// platform and the OAuth 2.0 client credentials flow"): a secret or a
// certificate assertion ("Microsoft identity platform application
// authentication certificate credentials").
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if tenant != s.TenantID {
		stsError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	if err := r.ParseForm(); err != nil {
		stsError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain a form.")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		stsError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	if !defaultScope(f.Get("scope")) {
		stsError(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[strings.ToLower(f.Get("client_id"))]
	if app == nil {
		stsError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", f.Get("client_id"), tenant))
		return
	}
	switch {
	case f.Get("client_secret") != "":
		switch {
		case app.Secret == "" || subtle.ConstantTimeCompare([]byte(app.Secret), []byte(f.Get("client_secret"))) != 1:
			stsError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
			return
		case app.SecretExpired:
			stsError(w, http.StatusUnauthorized, "invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired.", app.ClientID))
			return
		}
	case f.Get("client_assertion") != "":
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			stsError(w, http.StatusBadRequest, "invalid_request", 50027, "The client assertion type is not supported.")
			return
		}
		aud := s.URL + "/" + tenant + "/oauth2/v2.0/token"
		if code, msg := s.checkAssertion(app, f.Get("client_assertion"), aud); code != 0 {
			stsError(w, http.StatusUnauthorized, "invalid_client", code, msg)
			return
		}
	default:
		stsError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	// Entra gives tokens 60 to 90 minutes; the double one hour. The
	// token has a JWT's shape with the claims an app-only token carries
	// ("Access token claims reference": aud, tid, appid, roles, exp), so
	// that a diagnosis can read the roles; its signature is random, and
	// the server knows its tokens by their whole text.
	exp := s.Now().Add(time.Hour)
	claims, _ := json.Marshal(map[string]any{"aud": s.URL, "tid": tenant, "appid": app.ClientID, "roles": app.Roles, "exp": exp.Unix(), "idtyp": "app"})
	t := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(claims) + "." + randomHex(32)
	s.tokens[t] = token{app: app.ClientID, roles: slices.Clone(app.Roles), expires: exp}
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": t})
}

// checkAssertion checks a client assertion: its key is one of the app's
// certificates, found by x5t#S256 (or x5t), its signature PS256 or RS256,
// its iss and sub the client ID, its aud the token URL, and now within
// nbf and exp (five minutes of skew). It returns the AADSTS code and
// description of the first check that fails, or 0.
func (s *Server) checkAssertion(app *App, assertion, aud string) (int, string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return 50012, "The client assertion is not a JWT."
	}
	var h struct {
		Alg     string `json:"alg"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var c struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		return 50012, "The client assertion could not be decoded."
	}
	var pub *rsa.PublicKey
	for _, cert := range app.Certs {
		s256, s1 := sha256.Sum256(cert.Raw), sha1.Sum(cert.Raw)
		if (h.X5tS256 != "" && thumbprint(h.X5tS256, s256[:])) || (h.X5t != "" && thumbprint(h.X5t, s1[:])) {
			pub, _ = cert.PublicKey.(*rsa.PublicKey)
		}
	}
	if pub == nil {
		return 700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s%s']", h.X5t, h.X5tS256)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	var err error
	switch h.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
	default:
		err = fmt.Errorf("algorithm %q", h.Alg)
	}
	if err != nil {
		return 700027, "Client assertion contains an invalid signature."
	}
	now := s.Now().Unix()
	switch {
	case c.Iss != app.ClientID || c.Sub != app.ClientID:
		return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
	case c.Aud != aud:
		return 700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'.", c.Aud)
	case now > c.Exp+300 || now+300 < c.Nbf:
		return 700024, "Client assertion is not within its valid time range."
	}
	return 0, ""
}

// thumbprint reports whether a header's thumbprint is sum. Microsoft's
// page asks for base64url; MSAL Go sends standard base64, which Entra
// takes too.
func thumbprint(v string, sum []byte) bool {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(v); err == nil && subtle.ConstantTimeCompare(b, sum) == 1 {
			return true
		}
	}
	return false
}

// stsError answers as the token endpoint does ("Microsoft Entra
// authentication and authorization error codes"): error, a description
// that starts with the AADSTS code, and the code in error_codes.
func stsError(w http.ResponseWriter, status int, kind string, code int, description string) {
	writeJSON(w, status, map[string]any{
		"error":             kind,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s", code, description, randomHex(8)),
		"error_codes":       []int{code},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          randomHex(16),
		"correlation_id":    randomHex(16),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// defaultScope reports whether scope asks for one resource's /.default,
// beside the OpenID scopes MSAL adds to every request.
func defaultScope(scope string) bool {
	n := 0
	for _, sc := range strings.Fields(scope) {
		switch {
		case sc == "openid" || sc == "profile" || sc == "offline_access":
		case strings.HasSuffix(sc, "/.default"):
			n++
		default:
			return false
		}
	}
	return n == 1
}
