package roster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CursorKind says what a cursor counts.
type CursorKind string

// CursorUSN is Active Directory's update sequence number: every change
// a domain controller makes gets the next one, so "uSNChanged above the
// stored value" is exactly what changed since. USNs are local to one
// DC, and a DC restored from backup reuses them under a new invocation
// ID, which is why a cursor names its server.
const CursorUSN CursorKind = "ad-usn"

// CursorCSN is an OpenLDAP suffix's contextCSN, the change sequence
// number of its last change ("20261125210426.123456Z#000000#000#000000",
// kept by the syncprov overlay). Every entry carries the entryCSN of its
// own last change, so entries with an entryCSN at or after the cursor
// are exactly those changed since, plus the one change the cursor names.
// CSNs of one form sort as strings.
const CursorCSN CursorKind = "ldap-csn"

// CursorTime is a directory's modifyTimestamp, for an LDAP server
// without syncprov (no contextCSN): entries whose modifyTimestamp is at
// or after the cursor changed since. The value ("20261125211500Z",
// GeneralizedTime to the second, UTC) is taken from roster's clock less
// TimeCursorMargin, which absorbs clock skew between roster and the
// server; the entries changed within the margin are read twice, which
// changes nothing. Deletions leave no entry to find: they wait for a
// full sync.
const CursorTime CursorKind = "ldap-time"

// CursorDelta is a Microsoft Graph delta link: the URL that returns what
// changed in an Entra ID tenant since it was given. roster takes one
// (with $deltatoken=latest) before a run reads, as it reads a USN, so
// that a change made during the run is read again by the next one. A
// delta link lives about 7 days; one the service no longer takes makes
// the run read everything (ErrChangesLost).
const CursorDelta CursorKind = "graph-delta"

// ErrChangesLost is in the chain of the error a directory's change reader
// returns when it can no longer say what changed since the cursor (an
// expired delta link), before it handed over any entry: the engine then
// reads every entry, as a full run does, removals included.
var ErrChangesLost = errors.New("the directory can no longer say what changed since the last run")

// TimeCursorMargin is how far before its own clock roster starts a
// CursorTime: the clock difference it tolerates between itself and the
// directory.
const TimeCursorMargin = 10 * time.Minute

// TimeCursorFormat is the form of a CursorTime value.
const TimeCursorFormat = "20060102150405Z"

// Cursor is where the next incremental sync of a source resumes. It is
// read from the directory before a run's search and saved only when the
// run succeeds, so that a failed run reads the same changes again.
type Cursor struct {
	Kind   CursorKind
	Server string // the DC's dsServiceName and invocation ID
	Value  string // for CursorUSN, highestCommittedUSN in decimal
	// Scope fingerprints the settings that decide which entries the
	// source reads and how (search bases, filters, mapping): entries
	// brought into a new scope have old USNs, so a change of scope
	// needs a full sync.
	Scope string
}

// ScopeKey is the Scope a cursor taken for src carries.
func ScopeKey(src *Source) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%q|%q|%q|%q|%+v|%s",
		src.Type, src.SearchBases(), src.UserFilter, src.Domain, src.GroupScope, src.Mapping, src.DisabledUsers)))
	return hex.EncodeToString(h[:8])
}

// IsZero reports whether the cursor is unset: the directory offers no
// change tracking roster uses, or no run has succeeded yet.
func (c Cursor) IsZero() bool { return c.Value == "" }

// Follows reports whether an incremental sync may resume from since
// when the directory now stands at c, and if not, why not in words an
// admin can read.
func (c Cursor) Follows(since Cursor) (bool, string) {
	switch {
	case c.IsZero():
		return false, "this directory offers no change tracking that roster uses"
	case since.IsZero():
		return false, "no earlier successful run left a cursor"
	case c.Kind != since.Kind:
		return false, "the directory's kind of change tracking changed"
	case c.Scope != since.Scope:
		return false, "the source's search bases, filter, group scope or mapping changed since the last run"
	case c.Server != since.Server && c.Kind == CursorDelta:
		return false, "the tenant is not the one the last run read (" + since.Server + ")"
	case c.Server != since.Server:
		return false, "the domain controller is not the one the last run read (" + since.Server + "); USNs of different or restored domain controllers cannot be compared"
	}
	if !c.Valid() || !since.Valid() {
		switch c.Kind {
		case CursorCSN:
			return false, "the stored cursor is not a change sequence number"
		case CursorTime:
			return false, "the stored cursor is not a time"
		case CursorDelta:
			return false, "the stored cursor is not a delta link"
		}
		return false, "the stored cursor is not a number"
	}
	switch c.Kind {
	case CursorDelta: // links do not compare: the service says if one still works
		return true, ""
	case CursorCSN:
		if c.Value < since.Value {
			return false, "the directory's last change went back (" + since.Value + " to " + c.Value + "), as after a restore"
		}
		return true, ""
	case CursorTime:
		if c.Value < since.Value {
			return false, "roster's clock went back since the last run (" + since.Value + " to " + c.Value + ")"
		}
		return true, ""
	}
	now, _ := strconv.ParseUint(c.Value, 10, 64)
	was, _ := strconv.ParseUint(since.Value, 10, 64)
	if now < was {
		return false, "the domain controller's USN went back (" + since.Value + " to " + c.Value + "), as after a restore"
	}
	return true, ""
}

// Valid reports whether the value has its kind's form.
func (c Cursor) Valid() bool {
	switch c.Kind {
	case CursorUSN:
		_, err := strconv.ParseUint(c.Value, 10, 64)
		return err == nil
	case CursorCSN:
		return isCSN(c.Value)
	case CursorTime:
		_, err := time.Parse(TimeCursorFormat, c.Value)
		return err == nil && len(c.Value) == len(TimeCursorFormat)
	case CursorDelta:
		return strings.HasPrefix(c.Value, "https://")
	}
	return false
}

// isCSN reports whether v is a CSN of OpenLDAP's fixed-width form:
// YYYYmmddHHMMSS.ffffffZ#count#sid#mod, in 6, 3 and 6 hex digits.
func isCSN(v string) bool {
	if len(v) != 40 || v[14] != '.' || v[21] != 'Z' || v[22] != '#' || v[29] != '#' || v[33] != '#' {
		return false
	}
	for i, r := range v {
		switch {
		case i == 14 || i == 21 || i == 22 || i == 29 || i == 33:
		case i < 21 && (r < '0' || r > '9'):
			return false
		case i > 21 && !strings.ContainsRune("0123456789abcdef", r):
			return false
		}
	}
	return true
}
