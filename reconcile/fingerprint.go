package reconcile

import (
	"encoding/binary"
	"hash/fnv"
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
	h := fnv.New64a()
	var n [binary.MaxVarintLen64]byte
	count := func(k int) { h.Write(n[:binary.PutUvarint(n[:], uint64(k))]) }
	put := func(s string) {
		count(len(s))
		h.Write([]byte(s))
	}
	h.Write([]byte{fingerprintVersion})
	for _, s := range []string{r.DN, r.Login, r.Name, r.Email, r.Department, r.CostCenter, codeHash} {
		put(s)
	}
	disabled := byte(0)
	if r.Disabled {
		disabled = 1
	}
	h.Write([]byte{disabled})
	count(len(r.Cards))
	for _, c := range r.Cards {
		put(c)
	}
	keys := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	count(len(keys))
	for _, k := range keys {
		put(k)
		count(len(r.Extra[k]))
		for _, v := range r.Extra[k] {
			put(v)
		}
	}
	return h.Sum64() | 1
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
