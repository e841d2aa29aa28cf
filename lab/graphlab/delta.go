package graphlab

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// usersDelta answers GET /v1.0/users/delta ("user: delta"; "Use delta
// query to track changes in Microsoft Graph data"). A first round (no
// token) gives every user; a round from a $deltatoken gives the users
// changed since and those removed, with "@removed" and its reason. Each
// round is paged by nextLinks ($skiptoken) and ends with a deltaLink
// whose $deltatoken starts the next. The query's $select travels in the
// links, as Graph encodes it in its tokens. $deltatoken=latest answers
// only a delta link at the current state ("sync from now"). A token from
// before ExpireDeltaTokens is refused: 400 syncStateNotFound, or 410
// Gone.
func (s *Server) usersDelta(w http.ResponseWriter, r *http.Request, _ token) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A round's state: from (0: a first round), upto (the version the
	// round reports up to, fixed at its first page) and the offset.
	from, upto, offset := 0, s.version, 0
	switch {
	case q.Has("$skiptoken"):
		f, ok := decodeToken(q.Get("$skiptoken"), "round", 3)
		if !ok {
			graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		from, upto, offset = f[0], f[1], f[2]
	case q.Get("$deltatoken") == "latest":
		// "Sync from now": no data, a delta link at the current state.
		link := url.Values{"$deltatoken": {encodeToken("delta", s.version)}}
		if v := q.Get("$select"); v != "" {
			link.Set("$select", v)
		}
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#users", "value": []any{},
			"@odata.deltaLink": s.URL + "/v1.0/users/delta?" + link.Encode()})
		return
	case q.Has("$deltatoken"):
		f, ok := decodeToken(q.Get("$deltatoken"), "delta", 1)
		if !ok || f[0] < s.deltaFloor {
			if s.deltaGone {
				w.Header().Set("Location", s.URL+"/v1.0/users/delta?"+url.Values{"$deltatoken": {""}}.Encode())
				graphError(w, http.StatusGone, "resyncRequired", "The delta token is no longer valid; start a full round.")
				return
			}
			graphError(w, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found. The delta token expired and a full resync is needed.")
			return
		}
		from = f[0]
	}
	var fields []string
	if v := q.Get("$select"); v != "" {
		fields = append([]string{"id"}, strings.Split(v, ",")...)
	}
	items := []map[string]any{} // Graph answers "value": [] for a round without changes
	for _, u := range s.users {
		if v := s.changed[u["id"].(string)]; v > from && v <= upto {
			items = append(items, project(u, fields))
		}
	}
	if from > 0 { // a first round never reports removals
		var gone []string
		for id, rm := range s.removed {
			if rm.version > from && rm.version <= upto {
				gone = append(gone, id)
			}
		}
		sort.Strings(gone)
		for _, id := range gone {
			reason := map[bool]string{true: "deleted", false: "changed"}[s.removed[id].permanent]
			items = append(items, map[string]any{"id": id, "@removed": map[string]any{"reason": reason}})
		}
	}
	offset = min(offset, len(items))
	end := min(offset+s.DeltaPage, len(items))
	body := map[string]any{"@odata.context": s.URL + "/v1.0/$metadata#users", "value": items[offset:end]}
	link := url.Values{}
	if v := q.Get("$select"); v != "" {
		link.Set("$select", v)
	}
	if end < len(items) {
		link.Set("$skiptoken", encodeToken("round", from, upto, end))
		body["@odata.nextLink"] = s.URL + "/v1.0/users/delta?" + link.Encode()
	} else {
		link.Set("$deltatoken", encodeToken("delta", upto))
		body["@odata.deltaLink"] = s.URL + "/v1.0/users/delta?" + link.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}

// encodeToken makes an opaque token of a kind and numbers; clients must
// not read it, and the double does not hide it more than that.
func encodeToken(kind string, n ...int) string {
	parts := []string{kind}
	for _, v := range n {
		parts = append(parts, strconv.Itoa(v))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, ":")))
}

func decodeToken(t, kind string, count int) ([]int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	parts := strings.Split(string(b), ":")
	if err != nil || len(parts) != count+1 || parts[0] != kind {
		return nil, false
	}
	out := make([]int, count)
	for i, p := range parts[1:] {
		if out[i], err = strconv.Atoi(p); err != nil || out[i] < 0 {
			return nil, false
		}
	}
	return out, true
}
