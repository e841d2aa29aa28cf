package http

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The OpenAPI document: every route the server registers, one line
// each, with the schemas of its JSON body and answer (openapi_schemas.go).
// openapi_test.go holds it to the routes in the source and to the
// handlers' Go types: a route, a field or a 429 left out fails there.

// apiAccess is who may call an operation.
type apiAccess int

const (
	forAnyone    apiAccess = iota
	forReaders             // a console session, or a read or admin token
	forWriters             // a console session with X-CSRF-Token, or an admin token
	forTerminals           // a terminal or admin token, or a console session with X-CSRF-Token
	forConsole             // a console session only, with X-CSRF-Token for writes
	forPages               // a console page: a session, else a redirect to the sign-in page
)

var apiAccessText = map[apiAccess]string{
	forAnyone:    "none",
	forReaders:   "a console session, or a read or admin API token",
	forWriters:   "a console session (with the X-CSRF-Token header), or an admin API token",
	forTerminals: "a terminal or admin API token, or a console session (with the X-CSRF-Token header)",
	forConsole:   "a console session only (with the X-CSRF-Token header for writes); API tokens are refused",
	forPages:     "a console session; without one, a redirect (303) to /login",
}

// apiParam is a query parameter.
type apiParam struct {
	name string
	typ  jsonSchema
}

// tooMany says whether an operation answers 429, and how.
type tooMany int

const (
	tooManyNever tooMany = iota
	tooManyPlain         // 429, without Retry-After
	tooManyRetry         // 429, with Retry-After in seconds
)

// apiOp is one operation.
type apiOp struct {
	method, path, summary string
	notes                 string // more than the summary says
	who                   apiAccess
	query                 []apiParam
	body                  string     // the schema of the JSON request body; "" none
	optionalBody          bool       // the body may be left out
	status                int        // the answer when all goes well
	media                 string     // its media type; "" is application/json, when result is set
	result                jsonSchema // its schema; nil: no body, or not JSON
	tooMany               tooMany
	noError               bool // never answers an Error
}

const (
	mediaText = "text/plain"
	mediaHTML = "text/html"
)

// apiOps is every operation the server answers.
var apiOps = []apiOp{
	{method: "GET", path: "/healthz", summary: "The process answers (text: ok)", who: forAnyone, status: 200, media: mediaText, noError: true},
	{method: "GET", path: "/readyz", summary: "The user base answers too (text: ready; 503 when it does not)", who: forAnyone, status: 200, media: mediaText, noError: true},
	{method: "GET", path: "/metrics", summary: "Prometheus metrics, from the recorded runs", who: forReaders, status: 200, media: mediaText},
	{method: "GET", path: "/api/v1/openapi.json", summary: "This document", who: forAnyone, status: 200, result: jsObject("The OpenAPI 3.0 document", nil), noError: true},

	{method: "POST", path: "/api/v1/login", summary: "Sign in; sets the session cookie and returns the CSRF token", notes: "The body must be sent as application/json, and sign-ins from other sites (Sec-Fetch-Site) are refused (403). Failures are limited per client address, and per admin name from any address (a stored lockout: see /api/v1/lockouts); past the limit, 429 with Retry-After, even for the right password.", who: forAnyone, body: "Login", status: 200, result: jsRef("Session"), tooMany: tooManyRetry},
	{method: "POST", path: "/api/v1/logout", summary: "Sign out: ends the session", who: forConsole, status: 204},
	{method: "GET", path: "/api/v1/me", summary: "The signed-in admin and the session's CSRF token", who: forConsole, status: 200, result: jsRef("Session")},
	{method: "POST", path: "/api/v1/password", summary: "Change the admin's password", notes: "At least 12 characters; ends the admin's other sessions. A wrong current password counts as a failed sign-in (429 with Retry-After past the limit).", who: forConsole, body: "PasswordChange", status: 204, tooMany: tooManyRetry},

	{method: "GET", path: "/api/v1/users", summary: "Search users", who: forReaders, status: 200, result: jsRef("UserList"), query: []apiParam{
		{"q", jsString("Part of a login, former login, name or e-mail address")},
		{"disabled", jsBool("true: disabled users only; false: enabled users only")},
		{"offset", jsInt("Users to skip")},
		{"limit", jsInt("Users to return, 1 to 1000 (default 50)")}}},
	{method: "GET", path: "/api/v1/users/{login}", summary: "One user, by login or former login, with groups", who: forReaders, status: 200, result: jsRef("User")},
	{method: "GET", path: "/api/v1/groups", summary: "Groups, with their user counts", who: forReaders, status: 200, result: jsRef("GroupList")},
	{method: "POST", path: "/api/v1/users/{login}/print-code", summary: "Give the user a new random print code, returned this once", notes: "Written back to the directory when the user's source asks for it. 503: print codes are not set up on this server.", who: forWriters, body: "PrintCodeRequest", optionalBody: true, status: 200, result: jsRef("PrintCode")},
	{method: "POST", path: "/api/v1/sources/{id}/print-codes", summary: "Give every enabled user of the source without a print code a new one", notes: "The codes are returned this once, and not written back. 503: print codes are not set up on this server.", who: forWriters, body: "PrintCodeRequest", optionalBody: true, status: 200, result: jsRef("PrintCodes")},
	{method: "POST", path: "/api/v1/identify", summary: "Identify the person at a print terminal", notes: "By card or code alone: 404 unknown, 403 a disabled user or an expired card, 409 a code several users share. By a login or card with a secret: every refusal is the same 401. 429: the terminal's guessing budget is spent.", who: forTerminals, body: "IdentifyRequest", status: 200, result: jsRef("Identified"), tooMany: tooManyRetry},
	{method: "GET", path: "/api/v1/lockouts", summary: "What is locked or counted after wrong tries", notes: "The stored lockouts (admin names, users' print codes and passwords at terminals, shared by every node) and this node's locked guessing budgets and client addresses.", who: forReaders, status: 200, result: jsRef("LockoutList")},
	{method: "DELETE", path: "/api/v1/lockouts/{key}", summary: "Clear a lockout: let the user, admin name, terminal or address try again at once", notes: "404: nothing is counted under the key.", who: forWriters, status: 204},
	{method: "POST", path: "/api/v1/cards/test", summary: "The card test bench: values through transform steps, with each step's output", who: forWriters, body: "CardTestRequest", status: 200, result: jsRef("CardTestResults")},
	{method: "POST", path: "/api/v1/sources/{id}/write-test", summary: "Check that the source's account may write its write-back attributes, changing nothing", who: forWriters, status: 200, result: jsRef("WriteTest")},
	{method: "POST", path: "/api/v1/users/{login}/cards", summary: "Add a card by hand (kept by every sync; a card number belongs to one user)", who: forWriters, body: "CardRequest", status: 201, result: jsRef("UserCards")},
	{method: "DELETE", path: "/api/v1/users/{login}/cards/{number}", summary: "Remove a card added by hand", who: forWriters, status: 204},
	{method: "GET", path: "/api/v1/runs", summary: "Recent sync runs, newest first", who: forReaders, status: 200, result: jsRef("RunList"), query: []apiParam{
		{"limit", jsInt("Runs to return, 1 to 1000 (default 50)")}}},
	{method: "GET", path: "/api/v1/runs/{id}", summary: "One run, with bad entries and held removals", who: forReaders, status: 200, result: jsRef("Run")},

	{method: "GET", path: "/api/v1/sources", summary: "Directory sources (passwords never returned)", who: forReaders, status: 200, result: jsRef("SourceList")},
	{method: "POST", path: "/api/v1/sources", summary: "Add a source; the directory is not contacted (see /api/v1/sources/test)", who: forWriters, body: "Source", status: 201, result: jsRef("Source")},
	{method: "POST", path: "/api/v1/sources/{id}/move", summary: "Plan, and with ?apply=true carry out, the move of an Entra DS source's users onto Entra ID; the body is the entra-id source to move to", notes: "Users are rebound to their Entra ID objects by msDS-aadObjectId, else by UPN confirmed by mail or employee ID; nobody is removed.", who: forWriters, body: "Source", status: 200, result: jsRef("MoveResult")},
	{method: "POST", path: "/api/v1/sources/diagnose", summary: "Diagnose settings: each step from DNS (or Entra ID's token host) to the reads, up to the first failure, with its fix", notes: "The stored password is used on the same terms as /api/v1/sources/test.", who: forWriters, body: "Source", status: 200, result: jsRef("Diagnosis")},
	{method: "POST", path: "/api/v1/sources/test", summary: "Test settings: TLS, certificate, sign-in, user count", notes: "With the id of a stored source and no password, the stored password is used, and only with the stored address and trust settings.", who: forWriters, body: "Source", status: 200, result: jsRef("ConnectionTest")},
	{method: "GET", path: "/api/v1/sources/{id}", summary: "One source", who: forReaders, status: 200, result: jsRef("Source")},
	{method: "PUT", path: "/api/v1/sources/{id}", summary: "Replace a source; leave the password out to keep it", notes: "An update that changes the address or trust settings without the password drops the stored one: the answer has password_set false and says why in password_note.", who: forWriters, body: "Source", status: 200, result: jsRef("Source")},
	{method: "DELETE", path: "/api/v1/sources/{id}", summary: "Delete a source's settings (its users and runs stay)", who: forWriters, status: 204},
	{method: "POST", path: "/api/v1/sources/{id}/preview", summary: "Plan a sync; writes nothing", who: forWriters, status: 200, result: jsRef("Preview")},
	{method: "POST", path: "/api/v1/sources/{id}/sync", summary: "Start a sync in the background (409: the source is syncing already)", who: forWriters, status: 202, result: jsRef("SyncStarted"), query: []apiParam{
		{"mode", jsEnum("full (the default) reads every entry; incremental reads only the changes", "full", "incremental")},
		{"approve_removals", jsBool("true carries out the removals the last run held")}}},
	{method: "GET", path: "/api/v1/runs/{id}/progress", summary: "A run's live progress", who: forReaders, status: 200, result: jsRef("RunProgress")},
	{method: "GET", path: "/api/v1/runs/{id}/events", summary: "A run's progress as server-sent events (each data line a RunProgress), twice a second, until it ends", who: forReaders, status: 200, media: "text/event-stream"},
	{method: "POST", path: "/api/v1/runs/{id}/cancel", summary: "Cancel a running sync; it removes nobody", who: forWriters, status: 202},

	{method: "POST", path: "/api/v1/certificates/new", summary: "Make an Entra DS secure LDAP certificate (PFX and .cer); nothing is stored", who: forWriters, body: "CertificateRequest", status: 201, result: jsRef("NewCertificate")},
	{method: "POST", path: "/api/v1/certificates/check", summary: "Check a .pfx or .cer against the Entra DS rules", who: forWriters, body: "CertificateCheck", status: 200, result: jsRef("CertificateReport")},

	{method: "GET", path: "/api/v1/tokens", summary: "API tokens", who: forConsole, status: 200, result: jsRef("TokenList")},
	{method: "POST", path: "/api/v1/tokens", summary: "Make an API token; the secret is returned once", who: forConsole, body: "TokenRequest", status: 201, result: jsRef("NewToken")},
	{method: "DELETE", path: "/api/v1/tokens/{id}", summary: "Revoke an API token", who: forConsole, status: 204},

	// The console: HTML pages for browsers, which send their forms to
	// the JSON API above.
	{method: "GET", path: "/", summary: "Redirects (303) to /console", who: forAnyone, status: 303, noError: true},
	{method: "GET", path: "/static/{path}", summary: "The console's scripts, styles and images", who: forAnyone, status: 200, media: "*/*", noError: true},
	{method: "GET", path: "/login", summary: "The console's sign-in page", who: forAnyone, status: 200, media: mediaHTML, noError: true},
	{method: "GET", path: "/console", summary: "Console: the sources, with their last runs and next syncs", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/sources/new", summary: "Console: a new source", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/sources/{id}", summary: "Console: one source's settings", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/runs", summary: "Console: recent runs", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/runs/{id}", summary: "Console: one run", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/users", summary: "Console: users", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/users/{login}", summary: "Console: one user", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/groups", summary: "Console: groups", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/cards", summary: "Console: the card test bench", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/settings", summary: "Console: API tokens and the admin's password", who: forPages, status: 200, media: mediaHTML},
	{method: "GET", path: "/console/certificates", summary: "Console: make and check secure LDAP certificates", who: forPages, status: 200, media: mediaHTML},
}

var pathParamName = regexp.MustCompile(`\{(\w+)\}`)

// pathParams describes the parameters the path names.
var pathParams = map[string]jsonSchema{
	"id":     jsInt("The ID"),
	"login":  jsString("A login or former login"),
	"number": jsString("The card number"),
	"path":   jsString("The file's path"),
	"key":    jsString("A lockout's key, as GET /api/v1/lockouts lists it; it may hold slashes"),
}

// security is who may call, as OpenAPI security requirements.
func (o apiOp) security() []map[string][]string {
	none := []string{}
	session := map[string][]string{"session": none}
	if o.method != "GET" {
		session["csrf"] = none
	}
	switch o.who {
	case forReaders, forWriters, forTerminals:
		return []map[string][]string{{"bearer": none}, session}
	case forConsole, forPages:
		return []map[string][]string{session}
	}
	return []map[string][]string{}
}

func (o apiOp) operation() map[string]any {
	var params []map[string]any
	for _, m := range pathParamName.FindAllStringSubmatch(o.path, -1) {
		s, ok := pathParams[m[1]]
		if !ok {
			s = jsString("")
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": s})
	}
	for _, q := range o.query {
		params = append(params, map[string]any{"name": q.name, "in": "query", "required": false, "schema": q.typ})
	}
	ok := map[string]any{"description": http.StatusText(o.status)}
	switch {
	case o.result != nil:
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": o.result}}
	case o.media != "":
		ok["content"] = map[string]any{o.media: map[string]any{"schema": jsString("")}}
	}
	if o.status == http.StatusSeeOther {
		ok["headers"] = map[string]any{"Location": map[string]any{"schema": jsString("")}}
	}
	responses := map[string]any{strconv.Itoa(o.status): ok}
	errorBody := map[string]any{"application/json": map[string]any{"schema": jsRef("Error")}}
	if !o.noError {
		responses["default"] = map[string]any{"description": "An error, with its code and a message for admins", "content": errorBody}
	}
	if o.path == "/readyz" {
		responses["503"] = map[string]any{"description": "The user base does not answer", "content": map[string]any{mediaText: map[string]any{"schema": jsString("")}}}
	}
	switch o.tooMany {
	case tooManyPlain:
		responses["429"] = map[string]any{"description": "Too many failures; try again later", "content": errorBody}
	case tooManyRetry:
		responses["429"] = map[string]any{"description": "Too many failures; try again after Retry-After",
			"headers": map[string]any{"Retry-After": map[string]any{"description": "Seconds to wait before trying again", "schema": jsInt("")}},
			"content": errorBody}
	}
	desc := "Auth: " + apiAccessText[o.who]
	if o.notes != "" {
		desc = o.notes + "\n\n" + desc
	}
	op := map[string]any{"summary": o.summary, "description": desc,
		"security": o.security(), "responses": responses, "tags": []string{o.tag()}}
	if params != nil {
		op["parameters"] = params
	}
	if o.body != "" {
		op["requestBody"] = map[string]any{"required": !o.optionalBody,
			"content": map[string]any{"application/json": map[string]any{"schema": jsRef(o.body)}}}
	}
	return op
}

func (o apiOp) tag() string {
	switch {
	case strings.HasPrefix(o.path, "/api/"):
		return "api"
	case o.path == "/healthz" || o.path == "/readyz" || o.path == "/metrics":
		return "operations"
	}
	return "console"
}

// openAPI serves a description of the API, for scripts and tools. It is
// public: it says what exists, not what is in it.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	paths := map[string]map[string]any{}
	for _, o := range apiOps {
		if paths[o.path] == nil {
			paths[o.path] = map[string]any{}
		}
		paths[o.path][strings.ToLower(o.method)] = o.operation()
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "roster API", "version": s.Version,
			"description": "The REST API under /api/v1, the operational endpoints, and the console's pages. Errors are JSON: {\"error\": {\"code\", \"message\"}}."},
		"tags": []map[string]any{
			{"name": "api", "description": "The JSON API, for scripts, terminals and the console"},
			{"name": "operations", "description": "Health checks and metrics"},
			{"name": "console", "description": "The web console's pages (HTML)"},
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "An API token (roster_…), of scope read, admin or terminal"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie, "description": "The console session, opened by POST /api/v1/login"},
				"csrf":    map[string]any{"type": "apiKey", "in": "header", "name": csrfHeader, "description": "The session's CSRF token (from login or /api/v1/me), on every write made with the session"},
			},
			"schemas": openAPISchemas(),
		},
	}
	writeJSON(w, http.StatusOK, doc)
}
