package ldap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// attr is one attribute of a test entry.
type attr struct {
	name   string
	values []string
}

// entryMessage encodes a SearchResultEntry message with go-asn1-ber, as
// a directory sends it.
func entryMessage(msgID int64, dn string, attrs []attr, controls ...goldap.Control) []byte {
	list := make([]*goldap.EntryAttribute, len(attrs))
	for i, a := range attrs {
		list[i] = &goldap.EntryAttribute{Name: a.name, Values: a.values}
	}
	return message(msgID, entryOp(dn, list...), controls...).Bytes()
}

// goEntry decodes msg as go-ldap does: asn1-ber's packet tree, read the
// way go-ldap's search reads a SearchResultEntry, then roster's Entry
// from go-ldap's. ok is false where go-ldap would not give an entry.
func goEntry(msg []byte) (e *Entry, ok bool) {
	defer func() {
		if recover() != nil { // go-ldap indexes the tree as it expects it
			e, ok = nil, false
		}
	}()
	p, err := ber.ReadPacket(bytes.NewReader(msg))
	if err != nil || len(p.Children) < 2 || p.Children[1].Tag != goldap.ApplicationSearchResultEntry {
		return nil, false
	}
	op := p.Children[1]
	ge := &goldap.Entry{DN: op.Children[0].Value.(string)}
	for _, child := range op.Children[1].Children {
		a := &goldap.EntryAttribute{Name: child.Children[0].Value.(string)}
		for _, v := range child.Children[1].Children {
			a.Values = append(a.Values, v.Data.String())
			a.ByteValues = append(a.ByteValues, v.ByteValue)
		}
		ge.Attributes = append(ge.Attributes, a)
	}
	return newEntry(ge), true
}

// leanEntry decodes msg with the wire's decoder; ok as standIn's.
func leanEntry(msg []byte) (*Entry, bool) {
	_, op, ok := splitMessage(msg)
	if !ok || len(op) == 0 || op[0] != tagSearchResultEntry {
		return nil, false
	}
	return decodeEntry(append([]byte(nil), op...), map[string]string{})
}

// sameEntry says how two entries differ, "" when they do not: in DN,
// attribute names as sent and in order, and values (an attribute with no
// values is the same whether its list is nil or empty).
func sameEntry(a, b *Entry) string {
	if a.DN != b.DN {
		return fmt.Sprintf("DN %q against %q", a.DN, b.DN)
	}
	if !reflect.DeepEqual(a.Names(), b.Names()) {
		return fmt.Sprintf("names %q against %q", a.Names(), b.Names())
	}
	for i, aa := range a.attrs {
		ab := b.attrs[i]
		if len(aa.values) != len(ab.values) {
			return fmt.Sprintf("attribute %s: %q against %q", aa.name, aa.values, ab.values)
		}
		for j := range aa.values {
			if !bytes.Equal(aa.values[j], ab.values[j]) {
				return fmt.Sprintf("attribute %s value %d: %q against %q", aa.name, j, aa.values[j], ab.values[j])
			}
		}
	}
	return ""
}

// testEntries are entries a directory sends: binary values, case-folded
// duplicates, an attribute without values, long values that need BER's
// long length forms, UTF-8.
var testEntries = []struct {
	dn    string
	attrs []attr
}{
	{"uid=ann,ou=people,dc=corp,dc=test", []attr{{"uid", []string{"ann"}}, {"mail", []string{"ann@corp.test"}}}},
	{"CN=Ägnes Müller,OU=Staff,DC=corp,DC=test", []attr{{"objectGUID", []string{"\x00\x01\xff\x80\x30\x84\x00\x00\x00\x05zzzzz"}},
		{"cn", []string{"Ägnes"}}, {"CN", []string{"Müller"}}, {"member", nil}}},
	{strings.Repeat("x", 200), []attr{{"description", []string{strings.Repeat("long ", 100), strings.Repeat("longer ", 20000)}}}},
	{"", nil},
	{"cn=many", []attr{{"printCardNumber", []string{"1", "2", "3", "4", "5", "6", "7", "8"}}, {"empty", []string{""}}}},
	// A duplicate after another attribute: its values join the first
	// one's without touching the attribute between.
	{"cn=dup", []attr{{"mail", []string{"a@x"}}, {"sn", []string{"Between"}}, {"MAIL", []string{"b@x", "c@x"}}}},
}

func TestTheLeanDecoderMatchesGoLDAPs(t *testing.T) {
	for i, te := range testEntries {
		msg := entryMessage(int64(i+1), te.dn, te.attrs)
		want, ok := goEntry(msg)
		if !ok {
			t.Fatalf("entry %d: go-ldap refused it", i)
		}
		got, ok := leanEntry(msg)
		if !ok {
			t.Fatalf("entry %d: the lean decoder refused it", i)
		}
		if d := sameEntry(got, want); d != "" {
			t.Errorf("entry %d: %s", i, d)
		}
	}
}

func TestTheLeanDecoderLeavesWhatItDoesNotExpectToGoLDAP(t *testing.T) {
	good := entryMessage(7, "cn=a", []attr{{"cn", []string{"a"}}})
	cases := map[string][]byte{
		"controls":               entryMessage(7, "cn=a", []attr{{"cn", []string{"a"}}}, paging("c")),
		"cut short":              good[:len(good)-1],
		"a byte too many":        append(append([]byte(nil), good...), 0),
		"indefinite length":      append([]byte{0x30, 0x80}, good[2:]...),
		"a DN that is no string": bytes.Replace(good, []byte{0x04, 0x04, 'c', 'n', '=', 'a'}, []byte{0x02, 0x04, 'c', 'n', '=', 'a'}, 1),
		"values not in a set":    bytes.Replace(good, []byte{0x31, 0x03}, []byte{0x30, 0x03}, 1),
		"a search result done":   {0x30, 0x0c, 0x02, 0x01, 0x07, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00},
	}
	for name, msg := range cases {
		if _, ok := leanEntry(msg); ok {
			t.Errorf("%s: the lean decoder took it", name)
		}
	}
}

// FuzzLeanEntry holds the lean decoder to go-ldap's: whatever message it
// decodes, go-ldap decodes to the same entry. What it refuses goes to
// go-ldap as it came, so refusing is always safe.
func FuzzLeanEntry(f *testing.F) {
	for i, te := range testEntries {
		f.Add(entryMessage(int64(i+1), te.dn, te.attrs))
	}
	f.Add(entryMessage(1, "cn=a", []attr{{"cn", []string{"a"}}}, paging("x")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, ok := leanEntry(msg)
		if !ok {
			return
		}
		want, ok := goEntry(msg)
		if !ok {
			t.Fatalf("the lean decoder took a message go-ldap refuses: %x", msg)
		}
		if d := sameEntry(got, want); d != "" {
			t.Fatalf("%s, for %x", d, msg)
		}
	})
}

// chunky serves a byte stream in reads of random sizes, then err.
type chunky struct {
	net.Conn
	data []byte
	rnd  *rand.Rand
	err  error
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	n := min(len(p), len(c.data), 1+c.rnd.IntN(700))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// SetReadDeadline does nothing: chunky never blocks.
func (c *chunky) SetReadDeadline(time.Time) error { return nil }

// The wire hands go-ldap every message as it came, except plain entries:
// each run of them of one search becomes a stand-in for entries equal to
// go-ldap's decoding, in order, however the stream is cut into reads. A
// message too large to hold streams through whole, and a stream cut
// mid-message ends where it was cut, with the connection's error.
func TestTheWireStandsInForEntriesWhateverTheReads(t *testing.T) {
	type item struct {
		msg  []byte
		lean bool // a plain entry: it comes back through a stand-in
		id   int64
	}
	var items []item
	for _, te := range testEntries {
		items = append(items, item{entryMessage(7, te.dn, te.attrs), true, 7})
	}
	items = append(items,
		item{entryMessage(7, "cn=sync", nil, paging("s")), false, 7}, // with controls
		item{entryMessage(7, "cn=a", []attr{{"cn", []string{"a"}}}), true, 7},
		item{entryMessage(8, "cn=b", []attr{{"cn", []string{"b"}}}), true, 8}, // another search's
		item{entryMessage(7, "cn=big", []attr{{"jpegPhoto", []string{strings.Repeat("p", leanMaxMessage)}}}), false, 7},
		item{entryMessage(7, "cn=c", []attr{{"cn", []string{"c"}}}), true, 7},
		item{[]byte{0x30, 0x0c, 0x02, 0x01, 0x07, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}, false, 7}, // done
	)
	cut := entryMessage(7, "cn=cut", []attr{{"cn", []string{"cut"}}})
	cut = cut[:len(cut)-3]
	var all []byte
	for _, it := range items {
		all = append(all, it.msg...)
	}
	all = append(all, cut...)

	for seed := range uint64(20) {
		rnd := rand.New(rand.NewPCG(seed, 1))
		w := &wire{Conn: &chunky{data: all, rnd: rnd, err: io.ErrUnexpectedEOF}, lean: newLeanEntries()}
		var out []byte
		var err error
		for range 1 << 20 { // bounded: the stream is a few MB
			p := make([]byte, 1+rnd.IntN(5000))
			var n int
			n, err = w.Read(p)
			out = append(out, p[:n]...)
			if err != nil {
				break
			}
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("seed %d: the read ended with %v, want the connection's error", seed, err)
		}
		r := bytes.NewReader(out)
		next := 0 // the item expected next
		for next < len(items) {
			p, perr := ber.ReadPacket(r)
			if perr != nil {
				t.Fatalf("seed %d, item %d: %v", seed, next, perr)
			}
			if p.Children[1].Tag == goldap.ApplicationSearchResultEntry {
				dn, _ := p.Children[1].Children[0].Value.(string)
				if got, ok := w.lean.take(dn); ok {
					if len(p.Children[1].Children[1].Children) != 0 {
						t.Fatalf("seed %d: a stand-in carries attributes", seed)
					}
					for _, e := range got {
						if next >= len(items) || !items[next].lean {
							t.Fatalf("seed %d: a stand-in holds an entry where item %d is expected", seed, next)
						}
						want, _ := goEntry(items[next].msg)
						if d := sameEntry(e, want); d != "" {
							t.Fatalf("seed %d, item %d: %s", seed, next, d)
						}
						if id, _ := p.Children[0].Value.(int64); id != items[next].id {
							t.Fatalf("seed %d, item %d: a stand-in of search %d holds an entry of search %d", seed, next, id, items[next].id)
						}
						next++
					}
					continue
				}
			}
			if items[next].lean || !bytes.Equal(p.Bytes(), items[next].msg) {
				t.Fatalf("seed %d: item %d (%d bytes) came out changed", seed, next, len(items[next].msg))
			}
			next++
		}
		if rest, _ := io.ReadAll(r); !bytes.Equal(rest, cut) {
			t.Fatalf("seed %d: the stream ends with %d bytes, want the %d of the message that was cut", seed, len(rest), len(cut))
		}
	}
}

// A stand-in's DN comes from this connection's wire only: a DN that looks
// like one, sent by the directory, is an ordinary DN (the nonce is not
// guessable), and a stand-in taken twice is gone.
func TestAStandInCannotBeForged(t *testing.T) {
	l := newLeanEntries()
	other := newLeanEntries()
	dn := l.hold([]*Entry{{DN: "cn=real"}})
	if _, ok := other.take(dn); ok {
		t.Fatal("another connection's stand-in was taken as this one's")
	}
	if es, ok := l.take(dn); !ok || len(es) != 1 || es[0].DN != "cn=real" {
		t.Fatalf("take(%q) = %v, %v", dn, es, ok)
	}
	if es, ok := l.take(dn); !ok || es != nil {
		t.Fatalf("a stand-in taken twice gave %v, %v", es, ok)
	}
	if _, ok := l.take("\x00roster:0:1"); ok {
		t.Fatal("a guessed DN was taken for a stand-in")
	}
	// Held entries are bounded: past the bound, entries pass as they came.
	if !l.room(leanMaxHeld) || l.room(leanMaxHeld+1) {
		t.Fatalf("room for %d entries: %v; for one more: %v", leanMaxHeld, l.room(leanMaxHeld), l.room(leanMaxHeld+1))
	}
	l.hold(make([]*Entry, leanMaxHeld))
	if l.room(1) {
		t.Fatalf("the wire would hold more than %d entries", leanMaxHeld)
	}
	if es, ok := l.take(l.prefix + "999"); !ok || es != nil {
		t.Fatalf("a stand-in never given gave %v, %v", es, ok)
	}
	l.take(l.prefix + strconv.FormatUint(l.next, 10)) // the latest: the older ones are forgotten
	if !l.room(leanMaxHeld) {
		t.Fatal("forgotten entries still count against the bound")
	}
}

// A search through the lean wire from the scripted directory gives the
// entries the directory sent, attributes and all.
func TestASearchReadsTheLeanEntries(t *testing.T) {
	src := fakeDirectory(t, func(n int, id int64, w *fakeWire) bool {
		w.entryWith(id, "cn=ann,dc=corp", "mail", "ann@corp.test", "ann@old.test")
		w.entryWith(id, "cn=bob,dc=corp", "mail", "bob@corp.test")
		w.done(id, goldap.ApplicationSearchResultDone, 0, paging(""))
		return false
	})
	c := signIn(t, src)
	if c.wire.lean == nil {
		t.Fatal("a plain connection has no lean decoder")
	}
	var got []string
	_, err := c.Search(t.Context(), SearchRequest{BaseDN: "dc=corp", Scope: ScopeSubtree, Attributes: []string{"mail"}}, func(e *Entry) error {
		got = append(got, e.DN+" "+strings.Join(e.Values("MAIL"), ","))
		return nil
	})
	want := []string{"cn=ann,dc=corp ann@corp.test,ann@old.test", "cn=bob,dc=corp bob@corp.test"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Search gave %q, %v; want %q", got, err, want)
	}
}

// oneByOne serves one message a read, as slapd sends each entry in a TLS
// record of its own, then err.
type oneByOne struct {
	net.Conn
	msgs [][]byte
	err  error
}

func (c *oneByOne) Read(p []byte) (int, error) {
	if len(c.msgs) == 0 {
		return 0, c.err
	}
	n := copy(p, c.msgs[0])
	if c.msgs[0] = c.msgs[0][n:]; len(c.msgs[0]) == 0 {
		c.msgs = c.msgs[1:]
	}
	return n, nil
}

func (c *oneByOne) SetReadDeadline(time.Time) error { return nil }

// Entries that come a read each still go out as one stand-in a run (of
// at most leanRun): a stand-in an entry cost go-ldap's decoding of a
// message for each, half of what an unchanged sync allocated.
func TestTheWireStandsInForARunAcrossReads(t *testing.T) {
	const n = leanRun + 20
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, entryMessage(7, fmt.Sprintf("cn=u%d", i), []attr{{"cn", []string{"u"}}}))
	}
	msgs = append(msgs, []byte{0x30, 0x0c, 0x02, 0x01, 0x07, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}) // done
	w := &wire{Conn: &oneByOne{msgs: msgs, err: io.EOF}, lean: newLeanEntries()}
	var out []byte
	for range 10 * n { // bounded: a read gives at least a message
		p := make([]byte, 4096)
		k, err := w.Read(p)
		out = append(out, p[:k]...)
		if err != nil {
			break
		}
	}
	r := bytes.NewReader(out)
	var runs []int
	for {
		p, err := ber.ReadPacket(r)
		if err != nil {
			break
		}
		if p.Children[1].Tag != goldap.ApplicationSearchResultEntry {
			continue
		}
		dn, _ := p.Children[1].Children[0].Value.(string)
		held, ok := w.lean.take(dn)
		if !ok {
			t.Fatalf("entry %s passed to go-ldap; want it held for a stand-in", dn)
		}
		runs = append(runs, len(held))
	}
	if !slices.Equal(runs, []int{leanRun, n - leanRun}) {
		t.Fatalf("stand-ins for %v entries; want one for %d, then one for %d", runs, leanRun, n-leanRun)
	}
}

// BenchmarkDecodeEntry decodes an entry of a dozen attributes as a
// directory of people sends them: its allocations are a sync's, an entry.
func BenchmarkDecodeEntry(b *testing.B) {
	attrs := []attr{{"entryUUID", []string{"869521fa-82db-1041-8608-f1f69658d013"}}, {"uid", []string{"ann"}},
		{"cn", []string{"Ann Example"}}, {"givenName", []string{"Ann"}}, {"sn", []string{"Example"}},
		{"mail", []string{"ann@corp.test"}}, {"departmentNumber", []string{"Finance"}},
		{"employeeType", []string{"staff"}}, {"roomNumber", []string{"CC-1100"}},
		{"employeeNumber", []string{"0004412345"}}, {"pager", []string{"1234"}}, {"title", []string{"Clerk"}}}
	msg := entryMessage(7, "uid=ann,ou=people,dc=corp,dc=test", attrs)
	_, op, ok := splitMessage(msg)
	if !ok {
		b.Fatal("not a message")
	}
	names := map[string]string{}
	b.ReportAllocs()
	for b.Loop() {
		if e, ok := decodeEntry(op, names); !ok || len(e.attrs) != len(attrs) {
			b.Fatal("not decoded")
		}
	}
}
