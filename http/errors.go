package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/rosterhq/roster"
)

// statusOf maps roster's error codes to HTTP statuses, in one place.
var statusOf = map[string]int{
	roster.EINVALID:      http.StatusBadRequest,
	roster.EUNAUTHORIZED: http.StatusUnauthorized,
	roster.EFORBIDDEN:    http.StatusForbidden,
	roster.ENOTFOUND:     http.StatusNotFound,
	roster.ECONFLICT:     http.StatusConflict,
	roster.ETOOMANY:      http.StatusTooManyRequests,
	roster.EUNAVAILABLE:  http.StatusServiceUnavailable,
	roster.ETLS:          http.StatusBadGateway,
	roster.EINTERNAL:     http.StatusInternalServerError,
}

// waitError is a refusal by a rate limit: its answer carries
// Retry-After, the limiter's own wait in whole seconds, rounded up.
type waitError struct {
	err  *roster.Error
	wait time.Duration
}

func (e *waitError) Error() string { return e.err.Error() }
func (e *waitError) Unwrap() error { return e.err }

// errTooMany is an ETOOMANY error whose answer says to retry after wait.
func errTooMany(wait time.Duration, format string, args ...any) error {
	return &waitError{err: roster.Errorf(roster.ETOOMANY, format, args...), wait: wait}
}

// retrySeconds is wait in whole seconds, rounded up, at least 1.
func retrySeconds(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}

// apiError is the one shape of every error the API returns.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers with err's code and admin message. An internal
// error's text is logged, not sent: it was not written for the client
// and may carry detail that does not belong in a response.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.errorAnswer(r, err)
	if we := (*waitError)(nil); errors.As(err, &we) {
		w.Header().Set("Retry-After", itoa(retrySeconds(we.wait)))
	}
	writeJSON(w, status, body)
}

// errorAnswer is writeError's status and body, for answers that carry
// more beside the error. It logs an internal error's text.
func (s *Server) errorAnswer(r *http.Request, err error) (int, apiError) {
	code := roster.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		s.Log.Error("request failed", "method", r.Method, "path", logPath(r.URL.Path), "err", err)
	}
	var body apiError
	body.Error.Code, body.Error.Message = code, roster.ErrorMessage(err)
	return status, body
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		slog.Debug("writing a response failed", "err", err)
	}
}
