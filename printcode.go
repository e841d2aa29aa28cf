package roster

import (
	"context"
	"crypto/rand"
	"math/big"
)

// Print codes: the short number a user types at the printer. roster makes
// them when the directory holds none, and keeps only a keyed hash of each
// (see Record.PrintCode): a lookup by code hashes what was typed.

// Print code lengths roster makes. The terminals' guessing budgets let
// through about 360 wrong codes a day from all terminals together (see
// the README's Security section): a 4-digit code then falls in about two
// weeks and a 5-digit one in about four months, while a 6-digit one
// takes years. Codes shorter than 6 are therefore not made; a code a
// directory attribute holds is taken as it is.
const (
	MinPrintCodeLength     = 6
	MaxPrintCodeLength     = 12
	DefaultPrintCodeLength = 6
)

// TrivialPrintCode reports whether code is one a person would guess or
// a shoulder would read: every digit the same (1111), a run up or down
// (1234, 9876, 0123), or two halves alike (1212, 123123).
func TrivialPrintCode(code string) bool {
	n := len(code)
	if n < 2 {
		return true
	}
	same, up, down := true, true, true
	for i := 1; i < n; i++ {
		d := int(code[i]) - int(code[i-1])
		same = same && d == 0
		up = up && (d == 1 || d == -9) // 8901 wraps
		down = down && (d == -1 || d == 9)
	}
	if same || up || down {
		return true
	}
	for p := 1; p <= n/2; p++ { // a repeated pattern: 1212, 123123, 12121
		if n%p != 0 {
			continue
		}
		repeats := true
		for i := p; i < n && repeats; i++ {
			repeats = code[i] == code[i-p]
		}
		if repeats {
			return true
		}
	}
	return false
}

// GeneratePrintCode makes a random, non-trivial code of length digits
// that taken does not report in use. It gives up (EUNAVAILABLE) after
// 1,000 tries, which only a nearly full code space causes: use longer
// codes then.
func GeneratePrintCode(length int, taken func(code string) (bool, error)) (string, error) {
	draw, err := printCodeDrawer(length)
	if err != nil {
		return "", err
	}
	for range printCodeTries {
		code, err := draw()
		if err != nil {
			return "", err
		}
		if TrivialPrintCode(code) {
			continue
		}
		used, err := taken(code)
		if err != nil {
			return "", err
		}
		if !used {
			return code, nil
		}
	}
	return "", errCodeSpaceFull(length)
}

// printCodeTries is how many codes are drawn for one user before the
// code space counts as full.
const printCodeTries = 1000

// printCodeDrawer returns a function that draws a random code of length
// digits, trivial ones included; EINVALID for a length roster does not
// make.
func printCodeDrawer(length int) (func() (string, error), error) {
	if length < MinPrintCodeLength || length > MaxPrintCodeLength {
		return nil, Errorf(EINVALID, "a print code has %d to %d digits, not %d", MinPrintCodeLength, MaxPrintCodeLength, length)
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(length)), nil)
	return func() (string, error) {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", err
		}
		code := n.Text(10)
		for len(code) < length {
			code = "0" + code
		}
		return code, nil
	}, nil
}

func errCodeSpaceFull(length int) *Error {
	return Errorf(EUNAVAILABLE, "no free %d-digit print code was found in 1,000 tries; use longer codes", length)
}

// PrintCodeStore is what AssignPrintCode needs of the user base.
type PrintCodeStore interface {
	UsersByPrintCodeHash(ctx context.Context, hash string) ([]*User, error)
	// SetPrintCodeHash fails with ECONFLICT when another user has the hash.
	SetPrintCodeHash(ctx context.Context, userID int64, hash string) error
}

// AssignPrintCode gives the user a new generated code of length digits,
// stores its keyed hash (hash), and returns the code: the caller shows it
// this once. Another admin may take the same code between the check and
// the write; the store then refuses it, and a new one is drawn.
func AssignPrintCode(ctx context.Context, st PrintCodeStore, hash func(string) string, userID int64, length int) (string, error) {
	for range writeRounds {
		code, err := GeneratePrintCode(length, func(c string) (bool, error) {
			users, err := st.UsersByPrintCodeHash(ctx, hash(c))
			return len(users) > 0, err
		})
		if err != nil {
			return "", err
		}
		err = st.SetPrintCodeHash(ctx, userID, hash(code))
		switch {
		case ErrorCode(err) == ECONFLICT:
			continue // taken between the check and the write: draw again
		case err != nil:
			return "", err
		}
		return code, nil
	}
	return "", errTakenMeanwhile()
}

// writeRounds is how many times a code taken between the check and the
// write is drawn again.
const writeRounds = 5

func errTakenMeanwhile() *Error {
	return Errorf(ECONFLICT, "every print code drawn was taken by another user meanwhile; try again")
}
