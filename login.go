package roster

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// NormalizeLogin is the form in which roster stores and compares a
// login: without leading or trailing white space, and in Unicode
// normalisation form C. A name typed on a Mac (decomposed: e plus a
// combining accent) and the same name from a directory (composed) are
// then one login. Case is left alone: whether logins are lower-cased is
// the source's choice (Mapping.KeepLoginCase).
//
// "" means there is no login: nothing, or white space only.
func NormalizeLogin(login string) string {
	s := strings.TrimSpace(login)
	if norm.NFC.IsNormalString(s) {
		return s // the usual case, without a copy
	}
	return norm.NFC.String(s)
}
