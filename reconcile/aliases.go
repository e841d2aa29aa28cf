package reconcile

import "github.com/rosterhq/roster"

// Temporary: cmd/roster moves to roster.Change in the runner rework; then these go.
//
// The plan's types live in the root (roster.Change and its kin), so that
// the stores take a plan without importing the engine. These aliases only
// keep cmd/roster compiling while it still names them here: nothing else
// uses them, and this file goes as a whole.
type (
	Change      = roster.Change
	Kind        = roster.Kind
	FieldChange = roster.FieldChange
)

// Temporary: cmd/roster moves to roster.Change in the runner rework; then these go.
const (
	Create   = roster.Create
	Update   = roster.Update
	Rename   = roster.Rename
	Disable  = roster.Disable
	Reenable = roster.Reenable
	Delete   = roster.Delete
)
