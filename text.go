package roster

import (
	"unicode"
	"unicode/utf8"
)

// CheckText refuses a value typed by an admin that holds a control
// character: C0 controls (tab and newline included), DEL, and the C1
// controls U+0080 to U+009F (Unicode category Cc). Such a value cannot
// be typed at a terminal or read in the console, and it can forge lines
// in logs and files. field names the value in the message, as in "card
// number". It returns an *Error with code EINVALID, or nil.
func CheckText(field, value string) error {
	for i, r := range value {
		if unicode.Is(unicode.Cc, r) {
			return Errorf(EINVALID, "the %s holds a control character (U+%04X at byte %d), which cannot be typed or shown; remove it", field, r, i)
		}
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(value[i:]); n == 1 {
				return Errorf(EINVALID, "the %s is not valid UTF-8 (at byte %d); send it as UTF-8 text", field, i)
			}
		}
	}
	return nil
}
