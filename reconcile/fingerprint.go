package reconcile

import (
	"slices"

	"github.com/rosterhq/roster"
)

// fingerprintVersion starts every fingerprint: changing what goes into
// one changes it, so that every stored fingerprint stops matching and
// the next sync compares each user whole once.
const fingerprintVersion = 1

// fingerprint sums up what a sync writes of an entry: its DN, login,
// fields, the hash of its print code (codeHash, keyed: never the code
// itself, which a stolen fingerprint would then give away), its extra
// attributes, its cards as claimed, and whether the directory disables
// it. Two records with the same fingerprint plan the same user; the
// sum is 64-bit FNV-1a over length-prefixed values, stable across
// versions and machines, with its lowest bit set: stores mark a user
// changed by hand with an even value, which no entry matches.
func fingerprint(r *roster.Record, codeHash string) uint64 {
	h := fnvHash(fnvOffset)
	h.byte(fingerprintVersion)
	for _, s := range []string{r.DN, r.Login, r.Name, r.Email, r.Department, r.CostCenter, codeHash} {
		h.str(s)
	}
	disabled := byte(0)
	if r.Disabled {
		disabled = 1
	}
	h.byte(disabled)
	h.count(len(r.Cards))
	for _, c := range r.Cards {
		h.str(c)
	}
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h.count(len(keys))
	for _, k := range keys {
		h.str(k)
		h.count(len(r.Extra[k]))
		for _, v := range r.Extra[k] {
			h.str(v)
		}
	}
	return uint64(h) | 1
}

// fnvHash is 64-bit FNV-1a, written out so that hashing a string does
// not copy it (hash/fnv takes bytes): a sync fingerprints every entry.
type fnvHash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (h *fnvHash) byte(b byte) { *h = (*h ^ fnvHash(b)) * fnvPrime }

// count writes n as a uvarint, as encoding/binary would.
func (h *fnvHash) count(n int) {
	u := uint64(n)
	for u >= 0x80 {
		h.byte(byte(u) | 0x80)
		u >>= 7
	}
	h.byte(byte(u))
}

// str writes s's length, then s: no two lists of strings write the same.
func (h *fnvHash) str(s string) {
	h.count(len(s))
	for i := 0; i < len(s); i++ {
		h.byte(s[i])
	}
}

// unchanged reports whether the stored user d is what diff would plan
// from the entry rec of fingerprint fp: the same fingerprint and login,
// and a state no entry changes (not disabled as missing, and disabled as
// the entry says unless an admin disabled it).
func unchanged(d roster.UserDigest, rec *roster.Record, fp uint64) bool {
	return d.Fingerprint == fp && fp&1 == 1 && d.Login == rec.Login && !d.Missing && d.DisabledReason != roster.DisabledMissing &&
		(d.DisabledReason == roster.DisabledByAdmin || d.Disabled == rec.Disabled)
}

// codeHash is the print code hash an entry plans, "" when it has no code.
func (r *runner) codeHash(rec *roster.Record) string {
	if rec.PrintCode == "" {
		return ""
	}
	return r.e.HashCode(rec.PrintCode)
}
