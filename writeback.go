package roster

import (
	"regexp"
	"strings"
)

// WriteBack is where roster writes back to the directory. Each attribute
// must be the one the mapping reads the same field from, so that the next
// sync reads back what roster wrote instead of undoing it.
type WriteBack struct {
	PrintCode string `json:"print_code,omitempty"`
	Card      string `json:"card,omitempty"` // the primary card
}

// IsZero reports whether write-back is off.
func (w WriteBack) IsZero() bool { return w.PrintCode == "" && w.Card == "" }

// validate checks the attribute names against the mapping m.
func (w WriteBack) validate(m Mapping) error {
	for _, a := range []struct{ field, attr, reads string }{
		{"print code", w.PrintCode, m.PrintCode},
		{"card", w.Card, firstOf(m.Cards)},
	} {
		if a.attr == "" {
			continue
		}
		if !attrName.MatchString(a.attr) {
			return Errorf(EINVALID, "the write-back attribute %q for the %s is not an LDAP attribute name", a.attr, a.field)
		}
		if !strings.EqualFold(a.attr, a.reads) {
			return Errorf(EINVALID, "the %s is written back to %s but read from %q: write it to the attribute the mapping reads, or the next sync undoes the write", a.field, a.attr, a.reads)
		}
	}
	if w.Card != "" && len(m.CardTransforms) > 0 {
		return Errorf(EINVALID, "cards are not written back to a source with a card transform: the next sync would transform the written number again; remove the transform or the card write-back")
	}
	return nil
}

var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,63}$`)

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// WriteField is what roster writes back to a directory.
type WriteField string

const (
	WritePrintCode WriteField = "print_code"
	WriteCard      WriteField = "card"
)

// Attribute is where the source writes field back, "" when nowhere.
func (w WriteBack) Attribute(f WriteField) string {
	switch f {
	case WritePrintCode:
		return w.PrintCode
	case WriteCard:
		return w.Card
	}
	return ""
}

// WriteTest is the outcome of a test write: whether the source's account
// may write each write-back attribute, tried on one of its users without
// changing anything.
type WriteTest struct {
	User   string       `json:"user"` // the entry tried on
	Checks []WriteCheck `json:"checks"`
}

// WriteCheck is one attribute's test.
type WriteCheck struct {
	Field     WriteField `json:"field"`
	Attribute string     `json:"attribute"`
	OK        bool       `json:"ok"`
	Error     string     `json:"error,omitempty"`
}

// validateGraph checks an Entra ID source's write-back: print codes
// only, to the property the mapping reads them from, which Graph lets an
// app write: an extension attribute, a directory extension or
// employeeId.
func (w WriteBack) validateGraph(m Mapping) error {
	if w.Card != "" {
		return Errorf(EINVALID, "cards are not written back to Entra ID: leave write_back.card empty for an entra-id source")
	}
	if w.PrintCode == "" {
		return nil
	}
	if !graphWritable.MatchString(w.PrintCode) {
		return Errorf(EINVALID, "the print code cannot be written to %q: give onPremisesExtensionAttributes/extensionAttribute1 to 15, a directory extension (extension_<appId>_<name>) or employeeId", w.PrintCode)
	}
	if !strings.EqualFold(w.PrintCode, m.PrintCode) {
		return Errorf(EINVALID, "the print code is written back to %s but read from %q: write it to the property the mapping reads, or the next sync undoes the write", w.PrintCode, m.PrintCode)
	}
	return nil
}

var graphWritable = regexp.MustCompile(`^(onPremisesExtensionAttributes/extensionAttribute([1-9]|1[0-5])|extension_[0-9a-fA-F]{32}_[A-Za-z0-9_]{1,100}|employeeId)$`)
