package roster

import (
	"errors"
	"fmt"
)

// Error codes. Each says what kind of failure happened, so that callers
// (the CLI's exit status, the HTTP status, the console's colour) can react
// without parsing text. The HTTP layer maps them to statuses in one place.
const (
	ECONFLICT     = "conflict"     // the change clashes with existing data
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // the input or configuration is wrong
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	EUNAUTHORIZED = "unauthorized" // the credentials were rejected
	EFORBIDDEN    = "forbidden"    // the credentials are fine, the right is missing
	EUNAVAILABLE  = "unavailable"  // a server could not be reached or did not answer
	ETLS          = "tls"          // the TLS handshake or certificate check failed
	ETOOMANY      = "too_many"     // too many attempts: wait before trying again
)

// Error is roster's error. Message is written for an admin: it says what
// went wrong and, where there is one, what to do about it. It never holds
// a password or other secret. Op says where the error arose, for logs.
type Error struct {
	Code    string
	Message string
	Op      string
	Err     error // the underlying cause, if any; kept for logs and errors.Is
}

func (e *Error) Error() string {
	if e.Op != "" {
		return e.Op + ": " + e.Message
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain,
// EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the admin-facing message of the first *Error in
// err's chain. Other errors give a generic text, because their wording
// was not written for admins and may carry internal detail.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
