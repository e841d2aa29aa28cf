package roster

import (
	"context"
	"slices"
)

// Print codes in bulk: every user of a source who has none gets one (the
// API, the console and roster print-codes share AssignFirstPrintCodes).
// The codes are drawn and checked a batch at a time, and each batch is
// written in one transaction: one per user made 10,000 codes take
// minutes.

// PrintCodeBatch is how many users AssignFirstPrintCodes gives codes in
// one transaction. A batch set is shown before the next is written, so a
// failure loses at most one batch's codes unseen. Each batch rewrites
// most pages of the code index, so fewer, larger batches are faster:
// on SQLite, 100,000 codes took 17 s at 500 a batch, 9 s at 5,000 and
// 5.3 s at 25,000 (4.4 s in one); 3.5 s since the users come in the
// store's order (UsersWithoutPrintCode), so that each batch rewrites its
// own part of the table.
const PrintCodeBatch = 25000

// FirstPrintCode is one write of a bulk generation: the keyed hash of a
// new code, for a user who has none.
type FirstPrintCode struct {
	UserID int64
	Hash   string
}

// FirstCodeResult says what became of one FirstPrintCode.
type FirstCodeResult uint8

const (
	// FirstCodeSet: the user had no code, and has this one now.
	FirstCodeSet FirstCodeResult = iota + 1
	// FirstCodeKept: the user has a code by now (a sync's or an admin's)
	// and keeps it; nothing was set.
	FirstCodeKept
	// FirstCodeTaken: another user has this code; nothing was set.
	FirstCodeTaken
	// FirstCodeNoUser: no user has the ID (deleted meanwhile); nothing
	// was set.
	FirstCodeNoUser
)

// BulkPrintCodeStore is what AssignFirstPrintCodes needs of the user base.
type BulkPrintCodeStore interface {
	// PrintCodeHashesTaken returns those of hashes that some user (of any
	// source, disabled or not) has, as a set: one query for many.
	PrintCodeHashesTaken(ctx context.Context, hashes []string) (map[string]bool, error)
	// SetFirstPrintCodeHashes gives each user who has no print code the
	// hash paired with it, all in one transaction, and returns what became
	// of each, in the order of codes: a user who has a code by now keeps
	// it, and a hash another user has is not set (FirstCodeResult).
	//
	// Errors: EINVALID, and nothing set, when a hash is empty or a user ID
	// or a hash is listed twice.
	SetFirstPrintCodeHashes(ctx context.Context, codes []FirstPrintCode) ([]FirstCodeResult, error)
}

// IssuedPrintCode is a code a bulk generation set: shown this once.
type IssuedPrintCode struct {
	User *User
	Code string
}

// AssignFirstPrintCodes gives each of users who still has no print code a
// new generated code of length digits, unique among all users and not
// trivial, and stores its keyed hash (hash). It works PrintCodeBatch users
// at a time: it draws their codes, checks them in one query, writes them
// in one transaction, and then passes the codes set to issued, in the
// order of users, for the caller to show this once. It returns the users
// it skipped: those who got a code meanwhile (a sync, another admin), who
// keep it, and those deleted meanwhile.
//
// A code another admin takes between the check and the write is drawn
// again. It stops at the first error: EINVALID for a length roster does
// not make, EUNAVAILABLE when the code space is nearly full (see
// GeneratePrintCode), ECONFLICT when codes kept being taken meanwhile, a
// store's error, or issued's. The codes of the batches before were set
// and passed to issued; the failed batch's codes set before the error are
// passed to issued too (when issued itself fails, its codes are set).
func AssignFirstPrintCodes(ctx context.Context, st BulkPrintCodeStore, hash func(string) string, users []*User, length int, issued func([]IssuedPrintCode) error) (skipped []*User, err error) {
	draw, err := printCodeDrawer(length)
	if err != nil {
		return nil, err
	}
	for batch := range slices.Chunk(users, PrintCodeBatch) {
		b := firstCodes{st: st, hash: hash, draw: draw, length: length, users: batch}
		err := b.assign(ctx)
		var set []IssuedPrintCode
		for k, u := range batch {
			switch b.result[k] {
			case FirstCodeSet:
				set = append(set, IssuedPrintCode{User: u, Code: b.codes[k]})
			case FirstCodeKept, FirstCodeNoUser:
				skipped = append(skipped, u)
			}
		}
		if len(set) > 0 {
			if err := issued(set); err != nil {
				return skipped, err
			}
		}
		if err != nil {
			return skipped, err
		}
	}
	return skipped, nil
}

// firstCodes is one batch of AssignFirstPrintCodes.
type firstCodes struct {
	st     BulkPrintCodeStore
	hash   func(string) string
	draw   func() (string, error)
	length int
	users  []*User

	codes, hashes []string          // by user, the code drawn last
	result        []FirstCodeResult // by user, once written
	drawn         map[string]bool   // every code drawn for the batch
}

// assign draws and writes codes for the batch's users, and draws again
// for those whose code was taken between the check and the write.
func (b *firstCodes) assign(ctx context.Context) error {
	n := len(b.users)
	b.codes, b.hashes, b.result = make([]string, n), make([]string, n), make([]FirstCodeResult, n)
	b.drawn = make(map[string]bool, n)
	pending := make([]int, n)
	for k := range pending {
		pending[k] = k
	}
	for range writeRounds {
		if err := b.drawFree(ctx, pending); err != nil {
			return err
		}
		writes := make([]FirstPrintCode, len(pending))
		for i, k := range pending {
			writes[i] = FirstPrintCode{UserID: b.users[k].ID, Hash: b.hashes[k]}
		}
		results, err := b.st.SetFirstPrintCodeHashes(ctx, writes)
		if err != nil {
			return err
		}
		if len(results) != len(writes) {
			return Errorf(EINTERNAL, "the user base answered %d results for %d print codes", len(results), len(writes))
		}
		var again []int
		for i, k := range pending {
			if results[i] == FirstCodeTaken {
				again = append(again, k) // taken meanwhile: draw again
				continue
			}
			b.result[k] = results[i]
		}
		if pending = again; len(pending) == 0 {
			return nil
		}
	}
	return errTakenMeanwhile()
}

// drawFree draws a code for each user in slots: not trivial, not drawn
// for the batch before, and, by one query a round, not any user's.
func (b *firstCodes) drawFree(ctx context.Context, slots []int) error {
	tries := make([]int, len(slots))
	todo := make([]int, len(slots)) // indexes into slots
	for i := range todo {
		todo[i] = i
	}
	for len(todo) > 0 {
		hashes := make([]string, len(todo))
		for j, i := range todo {
			k := slots[i]
			for {
				if tries[i] == printCodeTries {
					return errCodeSpaceFull(b.length)
				}
				tries[i]++
				code, err := b.draw()
				if err != nil {
					return err
				}
				if !TrivialPrintCode(code) && !b.drawn[code] {
					b.drawn[code] = true
					b.codes[k], b.hashes[k] = code, b.hash(code)
					break
				}
			}
			hashes[j] = b.hashes[k]
		}
		taken, err := b.st.PrintCodeHashesTaken(ctx, hashes)
		if err != nil {
			return err
		}
		var again []int
		for j, i := range todo {
			if taken[hashes[j]] {
				again = append(again, i)
			}
		}
		todo = again
	}
	return nil
}
