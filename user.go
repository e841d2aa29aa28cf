package roster

import "time"

// User is one person in roster's user base, as a print server needs them.
//
// A user comes from one source and is tied to its directory entry by
// Anchor, never by login or DN: a renamed or moved entry stays the same
// user, and its former logins stay reachable as Aliases.
type User struct {
	ID       int64
	SourceID int64

	// Anchor is the entry's immutable identity: objectGUID on AD in its
	// canonical string form, entryUUID on OpenLDAP.
	Anchor string
	DN     string

	Login      string   // normalised, lower case by default
	Aliases    []string // former logins, still accepted
	Name       string
	Email      string
	Department string
	CostCenter string
	Cards      []Card

	// PrintCodeHash is the keyed hash of the print code, "" when there is
	// none. The code itself is never stored, and the hash never leaves
	// roster: with the key, a short code is quickly guessed from it.
	PrintCodeHash string `json:"-"`

	Disabled       bool
	DisabledReason DisabledReason
	MissingSince   time.Time // when a sync first did not find the entry; zero while present

	// Extra holds mapped attributes kept as the directory sent them.
	Extra map[string][]string

	CreatedAt time.Time
	UpdatedAt time.Time
	SeenAt    time.Time // last run that found the entry in the directory
}

// UserState is what a removal check reads of a stored user: which entry
// it stands for, and whether, why and since when it is disabled. A sync
// reads it for every user of a source, so it holds nothing else: the
// whole user is loaded only for those the check removes.
type UserState struct {
	ID             int64
	Anchor         string
	Disabled       bool
	DisabledReason DisabledReason
	MissingSince   time.Time
}

// UserDigest is what a sync reads of a stored user to learn that its
// directory entry left it unchanged, without loading the user whole: a
// sync of an unchanged directory reads one digest a user and writes
// nothing.
//
// Fingerprint is the one a sync stored with the user (Change.Fingerprint),
// whose lowest bit is always set. A fingerprint with that bit clear
// matches no entry: 0 for a user stored before fingerprints existed or
// that a sync wrote without one, and a new random even value each time
// something else changes what a sync compares (a print code, a card set
// or taken by hand), so that a sync that read the user before can tell
// (UserFingerprint.Was).
type UserDigest struct {
	ID             int64
	Anchor         string
	Login          string
	Fingerprint    uint64
	Disabled       bool
	DisabledReason DisabledReason
	Missing        bool // MissingSince is set
}

// UserFingerprint asks a store to keep a fingerprint for a user that a
// sync compared whole and found unchanged (its stored fingerprint was
// none or stale), unless the user's fingerprint changed since the sync
// read it: Was is the one the sync read.
type UserFingerprint struct {
	ID          int64
	Fingerprint uint64
	Was         uint64
}

// CardKind says how a card is used at the printer.
type CardKind string

const (
	CardPrimary   CardKind = "primary"
	CardSecondary CardKind = "secondary"
	CardTemporary CardKind = "temporary" // carries an expiry
)

// CardOrigin says where a card number came from. Manual cards were added
// in roster and survive every sync.
type CardOrigin string

const (
	CardFromDirectory CardOrigin = "directory"
	CardManual        CardOrigin = "manual"
)

// Card is one badge number, normalised by the source's card pipeline.
type Card struct {
	Number    string
	Kind      CardKind
	Origin    CardOrigin
	ExpiresAt time.Time // zero: no expiry
}

// Expired reports whether the card has an expiry that lies before now.
func (c Card) Expired(now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// DisabledReason says why a user is disabled. Syncs re-enable users they
// disabled themselves, never those an admin disabled.
type DisabledReason string

const (
	DisabledInDirectory DisabledReason = "directory" // disabled or expired in the directory
	DisabledMissing     DisabledReason = "missing"   // no longer returned by the directory
	DisabledByAdmin     DisabledReason = "admin"
)

// UserFilter selects users for a listing.
type UserFilter struct {
	// Query matches part of a login, former login, name or email. It is
	// trimmed and put in NFC first, as logins are stored (NormalizeLogin).
	// Case is ignored for ASCII letters only.
	Query    string
	Disabled *bool // when set, only disabled (true) or enabled (false) users
	SourceID int64 // when set, only this source's users
	Offset   int
	Limit    int // 0 or less: no limit
}
