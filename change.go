package roster

// The plan of a sync: what the engine (package reconcile) decides to do to
// each user, and what a store's Apply writes. The types live here, in the
// domain, so that the stores take a plan without importing the engine,
// and the CLI and the API show it without a copy of their own.

// Kind is what a change does to a user. Its values are part of the JSON
// that roster sync -json prints; they do not change.
type Kind string

const (
	Create   Kind = "create"
	Update   Kind = "update"
	Rename   Kind = "rename" // login or DN changed; may change other fields too
	Disable  Kind = "disable"
	Reenable Kind = "re-enable"
	Delete   Kind = "delete"
)

// FieldChange is one field's value before and after, as an admin reads
// it: a print code shows only whether it is set or changed, never the
// code or its hash.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Change is what a sync does to one user. Its JSON (roster sync -json)
// carries what an admin reviews: the kind, the login, the DN, why, and
// the fields that change; the user as stored and the store's hints stay
// out of it.
type Change struct {
	Kind     Kind          `json:"kind"`
	Login    string        `json:"login"`
	OldLogin string        `json:"old_login,omitempty"` // rename: kept as an alias
	DN       string        `json:"dn"`
	Reason   string        `json:"reason,omitempty"` // disable and delete: why
	Fields   []FieldChange `json:"fields,omitempty"`
	// User is the user as it is to be stored: ID 0 for a create. For a
	// delete only ID and Anchor matter. A store's Apply reads it and
	// never writes to it.
	User *User `json:"-"`
	// PrintCodeWas is the stored print code hash an update was planned
	// from. The store writes User.PrintCodeHash only over that value, so
	// that a code an admin sets while the sync runs is not overwritten
	// with the one the sync read before; the next sync sees it. Left
	// empty, the code is written only to a user who has none.
	PrintCodeWas string `json:"-"`
	// CardsChanged says that the user's directory cards (those in
	// User.Cards whose Origin is not manual: number, kind and expiry, in
	// order) differ from the stored ones the change was planned from. A
	// store replaces the directory cards of an updated user (Update,
	// Rename, Disable, Reenable) only when it is set, and leaves them
	// alone otherwise, without reading them: whoever plans the change
	// has read them already. A create writes its cards whatever it says;
	// a delete ignores it.
	CardsChanged bool `json:"-"`
	// Fingerprint sums up the directory entry the change was planned from
	// (see UserDigest), its lowest bit set. A store keeps it with a
	// created or updated user, so that the next sync knows the entry
	// unchanged from a digest; 0, as for a removal, means none. Where a
	// store keeps an admin's print code over the planned one
	// (PrintCodeWas), it keeps 0.
	Fingerprint uint64 `json:"-"`
}
