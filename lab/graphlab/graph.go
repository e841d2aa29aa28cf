package graphlab

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// graph wraps a Graph handler: the bearer token must be one this server
// issued and still valid ("Microsoft Graph error responses": 401
// InvalidAuthenticationToken), an injected fault is answered first, and
// the token must carry role, else 403 Authorization_RequestDenied, the
// answer of a call whose permission was not granted.
func (s *Server) graph(role string, h func(http.ResponseWriter, *http.Request, token)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.Calls[r.URL.Path]++
		t, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		var fault int
		if len(s.faults) > 0 {
			fault, s.faults = s.faults[0], s.faults[1:]
		}
		retry := s.RetryAfter
		now := s.Now()
		s.mu.Unlock()
		switch {
		case !ok || now.After(t.expires):
			graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or invalid.")
		case fault == http.StatusOK:
			// A broken page: 200, and no value list (a proxy's answer).
			writeJSON(w, http.StatusOK, map[string]any{})
		case fault != 0:
			// "Microsoft Graph throttling guidance": 429 with Retry-After;
			// 503 may carry one too.
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			code := map[int]string{http.StatusTooManyRequests: "TooManyRequests", http.StatusServiceUnavailable: "serviceNotAvailable"}[fault]
			graphError(w, fault, code, "injected by the lab")
		case !slices.Contains(t.roles, role) && !(strings.HasSuffix(role, ".Read.All") && slices.Contains(t.roles, "Directory.Read.All")):
			graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		default:
			h(w, r, t)
		}
	}
}

// listUsers answers GET /v1.0/users ("List users").
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ token) {
	s.mu.Lock()
	all := s.users
	s.mu.Unlock()
	servePage(w, r, s.URL, all)
}

// servePage answers one page of a collection ("Paging Microsoft Graph
// data in your app"): the properties $select names (id always), pages of
// $top (1 to 999, 100 by default), each but the last with an
// @odata.nextLink that carries an opaque $skiptoken.
func servePage(w http.ResponseWriter, r *http.Request, base string, all []map[string]any) {
	q := r.URL.Query()
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+v+"'. Must be between 1 and 999 inclusive.")
			return
		}
		top = n
	}
	from := 0
	if v := q.Get("$skiptoken"); v != "" {
		f, ok := decodeToken(v, "page", 1)
		if !ok {
			graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		from = f[0]
	}
	var fields []string
	if v := q.Get("$select"); v != "" {
		fields = append([]string{"id", "@odata.type"}, strings.Split(v, ",")...)
	}
	from = min(from, len(all))
	end := min(from+top, len(all))
	page := make([]map[string]any, 0, end-from)
	for _, u := range all[from:end] {
		page = append(page, project(u, fields))
	}
	body := map[string]any{"@odata.context": base + "/v1.0/$metadata", "value": page}
	if end < len(all) {
		next := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {encodeToken("page", end)}}
		if len(fields) > 0 {
			next.Set("$select", q.Get("$select"))
		}
		body["@odata.nextLink"] = base + r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}

// project keeps the fields named (all the default ones when fields is
// nil, which the double takes as everything it holds).
func project(u map[string]any, fields []string) map[string]any {
	if fields == nil {
		return u
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := u[f]; ok {
			out[f] = v
		}
	}
	return out
}

// graphError answers as Graph does ("Microsoft Graph error responses and
// resource types"): an error object with a code, a message and an inner
// error with the request's IDs and date.
func graphError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": randomHex(16), "client-request-id": randomHex(16)},
	}})
}
