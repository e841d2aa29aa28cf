package sqlstore

import (
	"time"

	"github.com/rosterhq/roster"
)

// The texts an admin reads, in one place. Each error names the thing at
// fault and, where there is one, the way out.

func rosterError(op, code, format string, args ...any) *roster.Error {
	e := roster.Errorf(code, format, args...)
	e.Op = "store." + op
	return e
}

func errNoSourceName() *roster.Error {
	return rosterError("SourceID", roster.EINVALID, "the source name is empty")
}

func errBadChange(i int, why string) *roster.Error {
	return rosterError("Apply", roster.EINVALID, "change %d: %s", i+1, why)
}

func errUserGone(kind string, login string, id int64) *roster.Error {
	return rosterError("Apply", roster.ENOTFOUND,
		"cannot %s %s (user %d): it is no longer a user of this source; run the sync again", kind, login, id)
}

func errAnchorTaken(login, anchor string) *roster.Error {
	return rosterError("Apply", roster.ECONFLICT,
		"cannot create %s: a user with anchor %s already exists in this source; run the sync again", login, anchor)
}

func errCardTaken(op, number, login, owner string) *roster.Error {
	return rosterError(op, roster.ECONFLICT,
		"card %s of %s is already the card of %s; remove it from one of them", number, login, owner)
}

func errEmptyCard(login string) *roster.Error {
	return rosterError("Apply", roster.EINVALID, "a card of %s has no number", login)
}

func errNoCardNumber() *roster.Error {
	return rosterError("AddCard", roster.EINVALID, "the card number is empty")
}

func errDuplicateGroup(anchor string) *roster.Error {
	return rosterError("SyncGroups", roster.EINVALID, "group anchor %s appears twice in one sync", anchor)
}

func errRunNotFound(op string, id int64) *roster.Error {
	return rosterError(op, roster.ENOTFOUND, "run %d does not exist", id)
}

func errRunNotDone(id int64) *roster.Error {
	return rosterError("FinishRun", roster.EINVALID, "run %d cannot finish with status running or none", id)
}

func errUserNotFound(op string, id int64) *roster.Error {
	return rosterError(op, roster.ENOTFOUND, "user %d does not exist", id)
}

func errLoginNotFound(login string) *roster.Error {
	return rosterError("UserByLogin", roster.ENOTFOUND, "no user has the login %s, now or formerly", login)
}

func errLeaseHeld(source, holder string, until time.Time) *roster.Error {
	return rosterError("AcquireLease", roster.ECONFLICT,
		"the source %s is being synced by the roster node %s (its lease runs until %s); try again when it ends",
		source, holder, until.UTC().Format(time.RFC3339))
}

func errLeaseLost(source, holder string) *roster.Error {
	e := rosterError("RenewLease", roster.ECONFLICT,
		"the roster node %s lost its lease of the source %s (it ran out, and another node may have taken over); this sync stops", holder, source)
	e.Err = roster.ErrLeaseLost
	return e
}

func errNoPrintCodeHash(id int64) *roster.Error {
	return rosterError("SetFirstPrintCodeHashes", roster.EINVALID, "the print code of user %d is empty", id)
}

func errPrintCodeUserTwice(id int64) *roster.Error {
	return rosterError("SetFirstPrintCodeHashes", roster.EINVALID, "user %d is given two print codes in one batch", id)
}

func errPrintCodeTwice() *roster.Error {
	return rosterError("SetFirstPrintCodeHashes", roster.EINVALID, "two users are given the same print code in one batch")
}
