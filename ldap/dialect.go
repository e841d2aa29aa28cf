package ldap

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// Dialect is how roster reads one type of directory over LDAP: which
// entries are people and which are groups, which attribute names an
// entry for life, what "disabled" means, and how changes are tracked.
// Every reader of entries (the sync's Directory, Survey) asks the
// source's dialect, so that no two of them decide differently.
//
// The parts of a type that a source's settings mean without a
// connection stay with the settings in the root package, because the
// root validates a source and the engine fingerprints its scope without
// importing ldap: the search bases (roster.Source.SearchBases), the
// bind name forms (roster.Source.BindName) and the attribute preset
// (roster.DefaultMapping).
type Dialect struct {
	// Anchor is the attribute that names an entry for life, through
	// renames and moves: objectGUID on AD, entryUUID (RFC 4530) on others.
	Anchor string
	// People selects user entries, before the admin's extra filter (see
	// UserFilter). On AD, objectCategory=person keeps computer accounts
	// out: computers are objectClass=user too.
	People string
	// Groups selects group entries.
	Groups string
	// Cursor is the change tracking an incremental sync resumes from. A
	// CursorCSN dialect falls back to CursorTime on a server without
	// syncprov (see Directory.Mark).
	Cursor roster.CursorKind
	// DisabledAttrs are the attributes Disabled reads; none when the
	// dialect has no disabled accounts.
	DisabledAttrs []string
	// Keep are attributes every sync records among the user's extra
	// attributes, whatever the mapping: on Entra DS, what a move to
	// Entra ID matches users by (msDS-aadObjectId, the Entra object ID;
	// userPrincipalName and employeeID to confirm a fallback match).
	Keep []string

	ad        bool // its servers announce Active Directory in the rootDSE
	anchor    func(*Entry) (string, error)
	groupName func(*Entry) string
	disabled  func(e *Entry, now time.Time) bool
}

// activeDirectory is the dialect of AD and of Entra Domain Services, a
// managed AD domain with the same schema and controls.
var activeDirectory = Dialect{
	Anchor:        "objectGUID",
	People:        "(&(objectCategory=person)(objectClass=user))",
	Groups:        "(objectClass=group)",
	Cursor:        roster.CursorUSN,
	DisabledAttrs: []string{"userAccountControl", "accountExpires"},
	ad:            true,
	anchor:        guidAnchor,
	groupName: func(e *Entry) string {
		if n := e.Value("sAMAccountName"); n != "" {
			return n // what admins see in AD's tools; the cn may differ
		}
		return e.Value("cn")
	},
	disabled: func(e *Entry, now time.Time) bool {
		return adDisabled(e.Value("userAccountControl"), e.Value("accountExpires"), now)
	},
}

// standardLDAP is the dialect of OpenLDAP and other servers of the
// standard schema. It has no disabled accounts: the standard schema
// has no attribute that says an account is off.
var standardLDAP = Dialect{
	Anchor: "entryUUID",
	People: "(objectClass=person)",
	Groups: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
	Cursor: roster.CursorCSN,
	anchor: func(e *Entry) (string, error) {
		return strings.ToLower(e.Value("entryUUID")), nil
	},
	groupName: func(e *Entry) string { return e.Value("cn") },
}

// entraDS is AD's dialect, keeping what a move to Entra ID needs.
var entraDS = func() Dialect {
	d := activeDirectory
	d.Keep = []string{roster.AttrAADObjectID, "userPrincipalName", "employeeID"}
	return d
}()

// dialects has one entry for each roster.DirectoryType.
var dialects = map[roster.DirectoryType]Dialect{
	roster.ActiveDirectory: activeDirectory,
	roster.EntraDS:         entraDS,
	roster.OpenLDAP:        standardLDAP,
	roster.GenericLDAP:     standardLDAP,
}

// DialectOf returns the dialect of a directory type. A type that
// roster.Source.Validate refuses gets the standard LDAP dialect, as every
// type but AD's did before dialects were named.
// Its DisabledAttrs are shared with every caller: read them, never
// change them.
func DialectOf(t roster.DirectoryType) Dialect {
	if d, ok := dialects[t]; ok {
		return d
	}
	return standardLDAP
}

// UserFilter returns the filter that selects people, ANDed with the
// admin's extra filter if there is one. The extra filter may come
// without its outer parentheses, as admins write it.
func (d Dialect) UserFilter(extra string) string {
	if extra == "" {
		return d.People
	}
	if extra[0] != '(' {
		extra = "(" + extra + ")"
	}
	return "(&" + d.People + extra + ")"
}

// AnchorOf returns the entry's anchor in the form the store keeps: AD's
// objectGUID in AD's own string form, or the lower-case entryUUID. The
// error, for an AD entry without a 16-byte objectGUID, says why in an
// admin's words; the entry cannot be synced.
func (d Dialect) AnchorOf(e *Entry) (string, error) { return d.anchor(e) }

// GroupName returns the name a group is shown by.
func (d Dialect) GroupName(e *Entry) string { return d.groupName(e) }

// HasDisabled reports whether the dialect has disabled accounts at all.
// When it does not, Disabled is always false and counting disabled users
// means nothing.
func (d Dialect) HasDisabled() bool { return d.disabled != nil }

// Disabled reports whether the entry's account is off at now: on AD, the
// ACCOUNTDISABLE bit of userAccountControl, or an accountExpires before
// now. The entry must carry DisabledAttrs. This is the one definition:
// the sync's records and the connection survey both use it.
func (d Dialect) Disabled(e *Entry, now time.Time) bool {
	return d.disabled != nil && d.disabled(e, now)
}

// Serves reports whether a server's rootDSE says it is of this dialect:
// a source whose type does not match its server reads the wrong
// attributes, and is warned about.
func (d Dialect) Serves(dse *RootDSE) bool { return d.ad == dse.IsAD }

// CheckFilter compiles the admin's extra user filter as a sync will send
// it (see Dialect.UserFilter), without a directory. It returns nil for "" or a
// filter that compiles, else an *roster.Error with code EINVALID that
// gives the parser's reason.
func CheckFilter(extra string) error {
	if extra == "" {
		return nil
	}
	if _, err := goldap.CompileFilter(standardLDAP.UserFilter(extra)); err != nil {
		return errBadFilter(extra, err)
	}
	return nil
}

// UACDisabled is the ACCOUNTDISABLE bit of AD's userAccountControl.
const UACDisabled = 0x2

// guidAnchor reads AD's objectGUID, which must be 16 bytes.
func guidAnchor(e *Entry) (string, error) {
	raw := e.Raw("objectGUID")
	if len(raw) != 16 {
		return "", fmt.Errorf("the objectGUID is %d bytes, not 16", len(raw))
	}
	return GUIDString(raw), nil
}

// adDisabled reads AD's account state: the ACCOUNTDISABLE bit, or an
// accountExpires in the past. accountExpires counts 100 ns ticks since
// 1601; 0 and the largest int64 mean "never".
func adDisabled(uac, expires string, now time.Time) bool {
	if n, err := strconv.ParseInt(uac, 10, 64); err == nil && n&UACDisabled != 0 {
		return true
	}
	ticks, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || ticks <= 0 || ticks == 1<<63-1 {
		return false
	}
	const epochDiff = 116444736000000000 // ticks from 1601 to 1970
	// Seconds and remainder apart: nanoseconds since 1970 in an int64 end
	// in 2262, and AD writes dates as far as year 30828.
	t := ticks - epochDiff
	return time.Unix(t/1e7, t%1e7*100).Before(now)
}
