package http

import "net/http"

// openAPI serves a description of the API, for scripts and tools. It is
// public: it says what exists, not what is in it.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	op := func(summary, auth string, params ...string) map[string]any {
		o := map[string]any{"summary": summary, "description": "Auth: " + auth,
			"responses": map[string]any{"200": map[string]any{"description": "OK"},
				"default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}}}
		var ps []map[string]any
		for _, p := range params {
			in := "query"
			if p == "login" || p == "id" {
				in = "path"
			}
			ps = append(ps, map[string]any{"name": p, "in": in, "required": in == "path", "schema": map[string]any{"type": "string"}})
		}
		if ps != nil {
			o["parameters"] = ps
		}
		return o
	}
	const (
		anyone  = "none"
		reader  = "a console session or a read or admin API token"
		term    = "a terminal or admin API token, or a console session"
		console = "a console session only, with the X-CSRF-Token header for writes"
		writer  = "a console session (with X-CSRF-Token) or an admin token"
	)
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	body := func(o map[string]any, schema string) map[string]any {
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(schema)}}}
		return o
	}
	obj := func(props ...string) map[string]any {
		p := map[string]any{}
		for _, name := range props {
			p[name] = map[string]any{"type": "string"}
		}
		return map[string]any{"type": "object", "properties": p}
	}
	source := obj("name", "type", "address", "tls", "domain", "login", "password", "ca_pem", "pin_sha256", "server_name",
		"user_filter", "disabled_users", "removal_action", "removal_grace", "full_schedule", "incremental_interval")
	source["properties"].(map[string]any)["type"] = map[string]any{"type": "string", "enum": []string{"ad", "entra-ds", "openldap", "ldap"}}
	source["properties"].(map[string]any)["tls"] = map[string]any{"type": "string", "enum": []string{"ldaps", "starttls", "none"}}
	source["properties"].(map[string]any)["password"] = map[string]any{"type": "string", "writeOnly": true}
	source["properties"].(map[string]any)["base_dns"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	source["properties"].(map[string]any)["mapping"] = map[string]any{"type": "object"}
	source["required"] = []string{"name", "type", "address", "tls", "login"}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "roster API", "version": s.Version},
		"paths": map[string]any{
			"/api/v1/login":                        map[string]any{"post": body(op("Sign in; sets the session cookie and returns the CSRF token", anyone), "Login")},
			"/api/v1/logout":                       map[string]any{"post": op("Sign out", console)},
			"/api/v1/me":                           map[string]any{"get": op("The signed-in admin and the session's CSRF token", console)},
			"/api/v1/password":                     map[string]any{"post": body(op("Change the admin's password", console), "PasswordChange")},
			"/api/v1/users":                        map[string]any{"get": op("Search users", reader, "q", "disabled", "offset", "limit")},
			"/api/v1/users/{login}":                map[string]any{"get": op("One user, by login or former login, with groups", reader, "login")},
			"/api/v1/runs":                         map[string]any{"get": op("Recent sync runs", reader, "limit")},
			"/api/v1/groups":                       map[string]any{"get": op("Groups, with their user counts", reader)},
			"/api/v1/identify":                     map[string]any{"post": body(op("Identify the user of a card or a print code, for print terminals: 404 unknown, 403 disabled user or expired card, 409 a code several users share, 429 too many unknown codes", term), "IdentifyRequest")},
			"/api/v1/sources/{id}/write-test":      map[string]any{"post": op("Check that the source's account may write its write-back attributes, changing nothing", writer, "id")},
			"/api/v1/cards/test":                   map[string]any{"post": body(op("The card test bench: values through transform steps, with each step's output", writer), "CardTestRequest")},
			"/api/v1/users/{login}/cards":          map[string]any{"post": body(op("Add a card by hand (kept by every sync; a card number belongs to one user)", writer, "login"), "CardRequest")},
			"/api/v1/users/{login}/cards/{number}": map[string]any{"delete": op("Remove a card added by hand", writer, "login", "number")},
			"/api/v1/users/{login}/print-code":     map[string]any{"post": body(op("Give the user a new random print code, returned this once", writer, "login"), "PrintCodeRequest")},
			"/api/v1/sources":                      map[string]any{"get": op("Directory sources (passwords never returned)", reader), "post": body(op("Add a source", writer), "Source")},
			"/api/v1/sources/{id}":                 map[string]any{"get": op("One source", reader, "id"), "put": body(op("Replace a source; leave the password out to keep it (same endpoint only)", writer, "id"), "Source"), "delete": op("Delete a source's settings (its users and runs stay)", writer, "id")},
			"/api/v1/sources/test":                 map[string]any{"post": body(op("Test settings: TLS, certificate, sign-in, user count", writer), "Source")},
			"/api/v1/sources/{id}/print-codes":     map[string]any{"post": body(op("Give every enabled user of the source without a print code a new one; the codes are returned this once", writer, "id"), "PrintCodeRequest")},
			"/api/v1/sources/{id}/preview":         map[string]any{"post": op("Plan a sync; writes nothing", writer, "id")},
			"/api/v1/sources/{id}/sync":            map[string]any{"post": op("Start a sync in the background (mode=incremental reads only the changes; approve_removals=true carries out held removals)", writer, "id", "mode", "approve_removals")},
			"/api/v1/runs/{id}/progress":           map[string]any{"get": op("A run's live progress", reader, "id")},
			"/api/v1/runs/{id}/events":             map[string]any{"get": op("A run's progress as server-sent events, until it ends", reader, "id")},
			"/api/v1/runs/{id}/cancel":             map[string]any{"post": op("Cancel a running sync; it removes nobody", writer, "id")},
			"/api/v1/certificates/new":             map[string]any{"post": body(op("Make an Entra DS secure LDAP certificate (PFX and .cer)", writer), "CertificateRequest")},
			"/api/v1/certificates/check":           map[string]any{"post": body(op("Check a .pfx or .cer against the Entra DS rules", writer), "CertificateCheck")},
			"/api/v1/runs/{id}":                    map[string]any{"get": op("One run, with bad entries and held removals", reader, "id")},
			"/api/v1/tokens":                       map[string]any{"get": op("API tokens", console), "post": body(op("Make an API token; the secret is returned once", console), "TokenRequest")},
			"/api/v1/tokens/{id}":                  map[string]any{"delete": op("Revoke an API token", console, "id")},
			"/api/v1/openapi.json":                 map[string]any{"get": op("This document", anyone)},
			"/healthz":                             map[string]any{"get": op("The process answers", anyone)},
			"/readyz":                              map[string]any{"get": op("The user base answers", anyone)},
			"/metrics":                             map[string]any{"get": op("Prometheus metrics", reader)},
		},
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
			},
			"schemas": map[string]any{
				"Login":              obj("name", "password"),
				"PasswordChange":     obj("current", "new"),
				"TokenRequest":       obj("name", "scope"),
				"IdentifyRequest":    obj("card", "code"),
				"PrintCodeRequest":   obj("length"),
				"CardTestRequest":    obj("steps", "values"),
				"CardRequest":        obj("number", "kind", "expires_at"),
				"CertificateRequest": obj("domain", "password"),
				"CertificateCheck":   obj("file_base64", "password", "domain"),
				"Source":             source,
				"Error": map[string]any{"type": "object", "properties": map[string]any{
					"error": map[string]any{"type": "object", "properties": map[string]any{
						"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}}},
		},
	}
	writeJSON(w, http.StatusOK, doc)
}
