package ldap

// A sync reads every entry of the directory, and go-ldap decodes each
// search result entry into a tree of BER packets, with a buffer, a value
// and a description for every element: about 150 allocations and 20 µs
// of CPU an entry, which made its reader the slowest part of a sync of an
// unchanged directory (see bench/sync and the closing note of issue 17).
//
// So the connection's wire decodes search result entries itself, and
// only those: it frames the directory's messages as they arrive, decodes
// each SearchResultEntry that carries no controls into an Entry, holds
// it, and hands go-ldap a small stand-in in its place: one entry with no
// attributes, for a run of entries of one search (up to the next other
// message, see frame), whose DN names the held ones (a token no directory can forge: it holds
// a random nonce). go-ldap still reads every other message, routes it,
// and owns every rule of the protocol (SearchResultDone, controls,
// referrals, errors, a connection cut between two pages); Conn.entries
// swaps the stand-in back for the entries it stands for, in order.
//
// What the lean decoder does not accept exactly (any tag, length form or
// layout it does not expect, a message with controls, a message larger
// than leanMaxMessage) passes to go-ldap as it came, byte for byte, and
// go-ldap decodes or refuses it as before. FuzzLeanEntry holds the two
// decoders to the same result on what the lean one accepts.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"

	goldap "github.com/go-ldap/ldap/v3"
)

// leanDecoding turns the lean decoder on for new connections; tests turn
// it off to compare with go-ldap's.
var leanDecoding = true

const (
	// leanMaxMessage bounds a message the wire holds whole to decode:
	// larger ones (a photo, a huge group) stream to go-ldap unread.
	leanMaxMessage = 1 << 20
	// leanMaxHeld bounds the entries held for their stand-ins: a reader
	// that stopped taking them (an abandoned search) makes the wire pass
	// entries through again rather than grow.
	leanMaxHeld = 4 * MaxPageSize
)

// leanEntries holds the entries the wire decoded until their stand-ins
// come through go-ldap.
type leanEntries struct {
	prefix string // of a stand-in's DN: a NUL, "roster:", the nonce, ":"

	mu    sync.Mutex
	next  uint64 // the last stand-in given
	low   uint64 // every stand-in below it was taken or forgotten
	held  map[uint64][]*Entry
	count int // entries held
	// names interns attribute names (the wire's goroutine only).
	names map[string]string
	// check, when set (by tests), sees each message the wire decoded and
	// its entry, on the wire's goroutine; msg is valid during the call.
	check func(msg []byte, e *Entry)
}

func newLeanEntries() *leanEntries {
	if !leanDecoding {
		return nil
	}
	var nonce [12]byte
	rand.Read(nonce[:])
	return &leanEntries{prefix: "\x00roster:" + hex.EncodeToString(nonce[:]) + ":", low: 1,
		held: map[uint64][]*Entry{}, names: map[string]string{}}
}

// room reports whether n more entries may be held.
func (l *leanEntries) room(n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count+n <= leanMaxHeld
}

// hold keeps es and returns their stand-in's DN.
func (l *leanEntries) hold(es []*Entry) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	l.held[l.next] = es
	l.count += len(es)
	return l.prefix + strconv.FormatUint(l.next, 10)
}

// take returns the entries a stand-in's DN names, and forgets those held
// before them: go-ldap hands messages over in the order they came, so an
// older stand-in was left by a reader that stopped. (A Conn runs one
// search at a time. Were two to interleave, the older's next stand-in
// would be gone, and its read would fail with errLeanLost, never return
// another search's entries.) ok is false for a DN that is not a
// stand-in's.
func (l *leanEntries) take(dn string) (es []*Entry, ok bool) {
	rest, found := strings.CutPrefix(dn, l.prefix)
	if !found {
		return nil, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || n > l.next {
		return nil, true // not one this wire gave
	}
	es = l.held[n]
	for ; l.low <= n; l.low++ {
		l.count -= len(l.held[l.low])
		delete(l.held, l.low)
	}
	return es, true
}

// entries returns roster's Entries for one go-ldap gave: the held
// entries when it is a stand-in, else go-ldap's own decoded. A stand-in
// whose entries are gone (never, unless the wire's bookkeeping broke)
// fails the read rather than give an entry without attributes.
func (c *Conn) entries(e *goldap.Entry) ([]*Entry, error) {
	if c.wire != nil && c.wire.lean != nil {
		if held, ok := c.wire.lean.take(e.DN); ok {
			if len(held) == 0 {
				return nil, errLeanLost
			}
			return held, nil
		}
	}
	return []*Entry{newEntry(e)}, nil
}

// frame moves the complete messages at the start of w.in to w.out,
// decoding plain search result entries: each run of them with one
// message ID goes out as one stand-in. A message larger than
// leanMaxMessage starts to stream through (w.pass counts what is left of
// it).
//
// A run is carried from one read to the next, and goes out when another
// message comes (the page's SearchResultDone, at the latest), when it
// reaches leanRun entries, or when the connection fails (fill). A
// directory may send every entry in a TLS record of its own (slapd
// does), and a read then returns one entry: a stand-in for each cost
// go-ldap's decoding of a message an entry, half of what an unchanged
// sync allocated. go-ldap waits for the next message either way, so
// holding the run until it comes delays nothing it could have used.
func (w *wire) frame() {
	for len(w.in) > 0 {
		if w.pass > 0 {
			w.flushRun()
			n := min(w.pass, len(w.in))
			w.out = append(w.out, w.in[:n]...)
			w.in, w.pass = w.in[n:], w.pass-n
			continue
		}
		size, ok := messageSize(w.in)
		if !ok {
			break // the header is not all here yet
		}
		if size < 0 || size > leanMaxMessage {
			// Too large to hold, or a length BER does not allow: go-ldap
			// reads it, or refuses it, as it comes.
			w.pass = len(w.in)
			if size > 0 {
				w.pass = size
			}
			continue
		}
		if len(w.in) < size {
			break
		}
		msg := w.in[:size]
		w.in = w.in[size:]
		id, op, ok := splitMessage(msg)
		var e *Entry
		if ok && len(op) > 0 && op[0] == tagSearchResultEntry && w.lean.room(len(w.run)+1) {
			e, ok = decodeEntry(append([]byte(nil), op...), w.lean.names)
		} else {
			ok = false
		}
		if !ok {
			w.flushRun()
			w.out = append(w.out, msg...)
			continue
		}
		if w.lean.check != nil {
			w.lean.check(msg, e)
		}
		if len(w.run) > 0 && !bytes.Equal(id, w.runID) {
			w.flushRun()
		}
		if len(w.run) == 0 {
			w.runID = append(w.runID[:0], id...)
		}
		w.run = append(w.run, e)
		if len(w.run) == leanRun {
			w.flushRun()
		}
	}
}

// flushRun sends the run of decoded entries out as one stand-in.
func (w *wire) flushRun() {
	if len(w.run) > 0 {
		w.out = append(w.out, standIn(w.runID, w.lean.hold(w.run))...)
		w.run = nil
	}
}

// leanRun bounds the entries one stand-in stands for.
const leanRun = 500

// standIn returns the message that stands in for held entries: SEQUENCE
// { messageID, [APPLICATION 4] { OCTET STRING dn, SEQUENCE {} } }.
func standIn(id []byte, dn string) []byte {
	body := append(tlv(nil, 0x04, []byte(dn)), 0x30, 0x00)
	inner := append(append([]byte(nil), id...), tlv(nil, tagSearchResultEntry, body)...)
	return tlv(make([]byte, 0, len(inner)+8), 0x30, inner)
}

// tagSearchResultEntry is [APPLICATION 4], constructed.
const tagSearchResultEntry = 0x64

// errLeanLost is a stand-in whose entry the wire no longer holds.
var errLeanLost = errors.New("an entry roster decoded was lost before it was read (a fault in roster, not in the directory); run the sync again")

// messageSize returns the size of the BER element at the start of b,
// header included; ok is false when its header is not all in b yet, and
// the size is -1 for a header no LDAP message has (indefinite length, a
// length of more than four bytes).
func messageSize(b []byte) (size int, ok bool) {
	if len(b) < 2 {
		return 0, false
	}
	l := int(b[1])
	if l < 0x80 {
		return 2 + l, true
	}
	n := l & 0x7f
	if n == 0 || n > 4 {
		return -1, true
	}
	if len(b) < 2+n {
		return 0, false
	}
	l = 0
	for _, c := range b[2 : 2+n] {
		l = l<<8 | int(c)
	}
	return 2 + n + l, true
}

// element splits the BER element at the start of b into its tag, its
// content and what follows it. ok is false unless the tag is one byte and
// the length definite, of at most four bytes, and within b.
func element(b []byte) (tag byte, content, rest []byte, ok bool) {
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return 0, nil, nil, false
	}
	l, h := int(b[1]), 2
	if l >= 0x80 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return 0, nil, nil, false
		}
		l = 0
		for _, c := range b[2 : 2+n] {
			l = l<<8 | int(c)
		}
		h += n
	}
	if l < 0 || len(b)-h < l {
		return 0, nil, nil, false
	}
	return b[0], b[h : h+l], b[h+l:], true
}

// splitMessage returns an LDAPMessage's messageID element (whole, with
// its header) and its protocolOp element; ok is false when anything but
// those two is in msg (controls) or the layout is not an LDAPMessage's.
func splitMessage(msg []byte) (id, op []byte, ok bool) {
	tag, body, rest, ok := element(msg)
	if !ok || tag != 0x30 || len(rest) != 0 {
		return nil, nil, false
	}
	tag, idContent, after, ok := element(body)
	if !ok || tag != 0x02 || len(idContent) == 0 || len(idContent) > 4 {
		return nil, nil, false
	}
	id = body[:len(body)-len(after)]
	if _, _, rest, ok = element(after); !ok || len(rest) != 0 {
		return nil, nil, false
	}
	return id, after, true
}

// decodeEntry decodes a SearchResultEntry protocolOp (RFC 4511, 4.5.2):
// [APPLICATION 4] { objectName OCTET STRING, attributes SEQUENCE OF
// SEQUENCE { type OCTET STRING, vals SET OF OCTET STRING } }. op is read
// and kept: the entry's values point into it. names interns attribute
// names across entries. ok is false unless op is exactly that.
//
// A first pass checks the layout and counts the attributes and values,
// so that the entry takes its attribute list and all its values' slices
// in one allocation each: 4 allocations for an entry of a dozen
// attributes instead of 15 (BenchmarkDecodeEntry; the same bytes and
// time).
func decodeEntry(op []byte, names map[string]string) (*Entry, bool) {
	_, body, _, ok := element(op)
	if !ok {
		return nil, false
	}
	tag, dn, rest, ok := element(body)
	if !ok || tag != 0x04 {
		return nil, false
	}
	tag, list, rest, ok := element(rest)
	if !ok || tag != 0x30 || len(rest) != 0 {
		return nil, false
	}
	nattrs, nvals := 0, 0
	for l := list; len(l) > 0; {
		var vals []byte
		if _, vals, l, ok = attribute(l); !ok {
			return nil, false
		}
		for len(vals) > 0 {
			if tag, _, vals, ok = element(vals); !ok || tag != 0x04 {
				return nil, false
			}
			nvals++
		}
		nattrs++
	}
	e := &Entry{DN: string(dn), attrs: make([]entryAttr, 0, nattrs)}
	values := make([][]byte, 0, nvals)
	for len(list) > 0 {
		name, vals, next, _ := attribute(list) // checked above
		list = next
		n, known := names[string(name)]
		if !known {
			n = string(name)
			if len(names) < 1024 { // a directory that names every attribute anew gets no cache
				names[n] = n
			}
		}
		first := len(values)
		for len(vals) > 0 {
			var v []byte
			_, v, vals, _ = element(vals)
			values = append(values, v[:len(v):len(v)])
		}
		var own [][]byte // nil for none, as go-ldap's
		if len(values) > first {
			// Capped: a second attribute of the same name appends to a
			// copy, never over the next attribute's values.
			own = values[first:len(values):len(values)]
		}
		e.add(n, own)
	}
	return e, true
}

// attribute splits the first PartialAttribute of list (a SEQUENCE of
// type and a SET of values) from the rest; ok is false unless list starts
// with one.
func attribute(list []byte) (name, vals, rest []byte, ok bool) {
	tag, attr, rest, ok := element(list)
	if !ok || tag != 0x30 {
		return nil, nil, nil, false
	}
	if tag, name, attr, ok = element(attr); !ok || tag != 0x04 {
		return nil, nil, nil, false
	}
	if tag, vals, attr, ok = element(attr); !ok || tag != 0x31 || len(attr) != 0 {
		return nil, nil, nil, false
	}
	return name, vals, rest, true
}

// tlv appends a BER element of tag and content to b.
func tlv(b []byte, tag byte, content []byte) []byte {
	b = append(b, tag)
	switch l := len(content); {
	case l < 0x80:
		b = append(b, byte(l))
	case l < 0x100:
		b = append(b, 0x81, byte(l))
	case l < 0x10000:
		b = append(b, 0x82, byte(l>>8), byte(l))
	default:
		b = append(b, 0x84, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
	}
	return append(b, content...)
}
