package ldap

import (
	"context"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// These tests drive the completeness rule of read.go against a scripted
// LDAP server on loopback, in plain LDAP so that each answer and each
// hang-up lands exactly where the script puts it. The fault suite in
// cmd/roster does the same through TLS against the lab's real servers.

// script says how the fake directory answers the n-th search (from 1).
type script func(n int, msgID int64, w *fakeWire) (hangUp bool)

type fakeWire struct {
	conn net.Conn
	t    *testing.T
}

func (w *fakeWire) send(msgID int64, op *ber.Packet, controls ...goldap.Control) {
	w.conn.Write(message(msgID, op, controls...).Bytes())
}

// message encodes an LDAPMessage: its ID, op and any controls.
func message(msgID int64, op *ber.Packet, controls ...goldap.Control) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, msgID, "MessageID"))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range controls {
			cs.AppendChild(c.Encode())
		}
		p.AppendChild(cs)
	}
	return p
}

// entryOp encodes a SearchResultEntry with its attributes, as a directory
// sends one.
func entryOp(dn string, attrs ...*goldap.EntryAttribute) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "Entry")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "DN"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, at := range attrs {
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attribute")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, at.Name, "Type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "Values")
		for _, v := range at.Values {
			vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "Value"))
		}
		a.AppendChild(vals)
		list.AppendChild(a)
	}
	op.AppendChild(list)
	return op
}

func (w *fakeWire) entry(msgID int64, dn string) { w.entryWith(msgID, dn, "cn", dn) }

// entryWith sends an entry with one attribute.
func (w *fakeWire) entryWith(msgID int64, dn, attr string, values ...string) {
	w.send(msgID, entryOp(dn, &goldap.EntryAttribute{Name: attr, Values: values}))
}

func (w *fakeWire) done(msgID int64, app int, code int, controls ...goldap.Control) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(app), nil, "Done")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, "Result"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "Matched DN"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "Message"))
	w.send(msgID, op, controls...)
}

func paging(cookie string) goldap.Control {
	p := goldap.NewControlPaging(0)
	p.SetCookie([]byte(cookie))
	return p
}

// fakeDirectory serves one connection with s and returns a source
// pointed at it.
func fakeDirectory(t *testing.T, s script) *roster.Source {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		w := &fakeWire{conn: conn, t: t}
		searches := 0
		for range 100 { // bounded: no script needs more requests
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			p, err := ber.ReadPacket(conn)
			if err != nil || len(p.Children) < 2 {
				return
			}
			id, _ := p.Children[0].Value.(int64)
			switch p.Children[1].Tag {
			case goldap.ApplicationBindRequest:
				w.done(id, goldap.ApplicationBindResponse, 0)
			case goldap.ApplicationSearchRequest:
				searches++
				if s(searches, id, w) {
					return
				}
			case goldap.ApplicationExtendedRequest: // StartTLS: accepted, then the line is cut
				w.done(id, goldap.ApplicationExtendedResponse, 0)
				return
			case goldap.ApplicationUnbindRequest:
				return
			}
		}
	}()
	return &roster.Source{Type: roster.OpenLDAP, Address: l.Addr().String(), TLSMode: roster.Plain, AllowInsecure: true,
		Domain: "example.test", Login: "cn=svc,dc=example,dc=test", Password: roster.Secret("pw"),
		RequestTimeout: 30 * time.Second} // ample: only the silence test waits for it, with its own
}

func signIn(t *testing.T, src *roster.Source) *Conn {
	t.Helper()
	c, err := Dialer{}.SignIn(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAPagedSearchIsCompleteOnlyWhenTheDirectorySaysSo(t *testing.T) {
	tests := []struct {
		name     string
		script   script
		wantErr  string // "" for a complete read
		wantCode string
		entries  int
	}{
		{"two pages, the last with an empty cookie", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a"+string(rune('0'+n)))
			cookie := ""
			if n == 1 {
				cookie = "next"
			}
			w.done(id, goldap.ApplicationSearchResultDone, 0, paging(cookie))
			return false
		}, "", "", 2},
		{"a hang-up between two pages", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a")
			w.done(id, goldap.ApplicationSearchResultDone, 0, paging("next"))
			return true // closes the connection before the next request
		}, "during the page 2 of the search of dc=example,dc=test (after 1 entries)", roster.EUNAVAILABLE, 1}, // closed, or reset when the request meets the closed socket
		{"a hang-up in the middle of a page", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a")
			return true
		}, "closed the connection during the first page", roster.EUNAVAILABLE, 1},
		{"a reset in the middle of a page", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a")
			w.conn.(*net.TCPConn).SetLinger(0)
			return true
		}, "was reset during the first page", roster.EUNAVAILABLE, 1},
		{"a last page without the paging control", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a")
			w.done(id, goldap.ApplicationSearchResultDone, 0)
			return false
		}, "without the answer that proves it complete", roster.EUNAVAILABLE, 1},
		{"a directory that goes silent", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a")
			io.Copy(io.Discard, w.conn) // silent until the client hangs up (or the read deadline)
			return true
		}, "did not answer the first page of the search of dc=example,dc=test within 1s", roster.EUNAVAILABLE, 1},
		{"entries that come slowly, one cut across a wait longer than the wire's linger", func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=a")
			b := message(id, entryOp("cn=b", &goldap.EntryAttribute{Name: "cn", Values: []string{"cn=b"}})).Bytes()
			w.conn.Write(b[:len(b)/2])
			time.Sleep(4 * leanLinger) // cn=a goes out alone; cn=b waits for its rest
			w.conn.Write(b[len(b)/2:])
			time.Sleep(4 * leanLinger)
			w.entry(id, "cn=c")
			w.done(id, goldap.ApplicationSearchResultDone, 0, paging(""))
			return false
		}, "", "", 3},
		{"a busy directory", func(n int, id int64, w *fakeWire) bool {
			w.done(id, goldap.ApplicationSearchResultDone, int(goldap.LDAPResultBusy))
			return false
		}, "LDAP code 51", roster.EUNAVAILABLE, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fakeDirectory(t, tt.script)
			if strings.Contains(tt.name, "silent") {
				src.RequestTimeout = time.Second
			}
			c := signIn(t, src)
			var got int
			st, err := c.Search(context.Background(), SearchRequest{BaseDN: "dc=example,dc=test", Scope: ScopeSubtree},
				func(*Entry) error { got++; return nil })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Search() = %v, want a complete read", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) || roster.ErrorCode(err) != tt.wantCode {
				t.Fatalf("Search() = %v (code %q), want %q containing %q", err, roster.ErrorCode(err), tt.wantCode, tt.wantErr)
			}
			if got != tt.entries || st.Entries != tt.entries {
				t.Errorf("read %d entries (stats %d), want %d", got, st.Entries, tt.entries)
			}
		})
	}
}

func TestAReadOfOneEntryNeedsItsSearchResultDone(t *testing.T) {
	t.Run("an entry and its SearchResultDone", func(t *testing.T) {
		c := signIn(t, fakeDirectory(t, func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=x")
			w.done(id, goldap.ApplicationSearchResultDone, 0)
			return false
		}))
		e, err := c.Get(context.Background(), "cn=x", "cn")
		if err != nil || e == nil || e.Value("cn") != "cn=x" {
			t.Fatalf("Get() = %v, %v; want the entry", e, err)
		}
	})
	t.Run("an entry and then a hang-up", func(t *testing.T) {
		c := signIn(t, fakeDirectory(t, func(n int, id int64, w *fakeWire) bool {
			w.entry(id, "cn=x")
			return true
		}))
		e, err := c.Get(context.Background(), "cn=x", "cn")
		if err == nil || !strings.Contains(err.Error(), "closed the connection during the read of cn=x") {
			t.Fatalf("Get() = %v, %v; want the hang-up named", e, err)
		}
	})
	t.Run("a second read after the directory hung up", func(t *testing.T) {
		c := signIn(t, fakeDirectory(t, func(n int, id int64, w *fakeWire) bool {
			w.done(id, goldap.ApplicationSearchResultDone, 0)
			return true
		}))
		if _, err := c.Get(context.Background(), "cn=x"); err != nil {
			t.Fatalf("first Get() = %v", err)
		}
		// The hang-up reaches go-ldap's reader some time after the answer.
		deadline := time.Now().Add(10 * time.Second)
		for !c.conn.IsClosing() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		_, err := c.RootDSE(context.Background())
		if err == nil || roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(err.Error(), "root DSE") {
			t.Fatalf("RootDSE() after a hang-up = %v, want an error naming the root DSE", err)
		}
	})
}

// TestOnlyReadGoSearches keeps the completeness rule in one place: no
// file but read.go may call go-ldap's search functions.
func TestOnlyReadGoSearches(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{".SearchAsync(", ".Syncrepl(", ".SearchWithPaging(", ".DirSync(", ".DirSyncAsync(", "c.conn.Search("}
	for _, f := range files {
		if f == "read.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), f, src, parser.SkipObjectResolution); err != nil {
			t.Fatal(err)
		}
		for _, b := range banned {
			if strings.Contains(string(src), b) {
				t.Errorf("%s calls go-ldap's %s directly; read through streamed or single in read.go, which prove a read complete", f, strings.Trim(b, ".("))
			}
		}
	}
}

func TestConnectionSetUpErrorsSayWhereItStopped(t *testing.T) {
	t.Run("StartTLS accepted, then the connection lost", func(t *testing.T) {
		src := fakeDirectory(t, func(int, int64, *fakeWire) bool { return true })
		src.TLSMode, src.AllowInsecure = roster.StartTLS, false
		_, err := Dial(context.Background(), src)
		if err == nil || roster.ErrorCode(err) != roster.ETLS || !strings.Contains(err.Error(), "lost during StartTLS, after the directory answered") {
			t.Fatalf("Dial() = %v, want the loss after StartTLS named", err)
		}
	})
	t.Run("a TCP connection that never sets up TLS", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() { // accepts, then says nothing until the test ends
			if c, err := l.Accept(); err == nil {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				io.Copy(io.Discard, c)
			}
		}()
		src := &roster.Source{Type: roster.OpenLDAP, Address: l.Addr().String(), TLSMode: roster.LDAPS, Domain: "example.test",
			ConnectTimeout: 300 * time.Millisecond}
		_, err = Dial(context.Background(), src)
		if err == nil || !strings.Contains(err.Error(), "accepted the connection but did not finish setting up ldaps within 300ms") {
			t.Fatalf("Dial() = %v, want the stalled TLS set-up named, not a firewall", err)
		}
	})
}

func TestRangeRetrievalNeedsEveryWindowItAnnounced(t *testing.T) {
	tests := []struct {
		name    string
		second  func(id int64, w *fakeWire) // the answer to the second window
		want    int                         // members read; -1 for an error
		wantErr string
	}{
		{"the last window ends in *", func(id int64, w *fakeWire) {
			w.entryWith(id, "cn=g", "member;range=2-*", "cn=c")
		}, 3, ""},
		{"the second window comes without the attribute", func(id int64, w *fakeWire) {
			w.entryWith(id, "cn=g", "cn", "g")
		}, -1, "announced more values of member for cn=g than it sent: the read from value 2 on returned none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := signIn(t, fakeDirectory(t, func(n int, id int64, w *fakeWire) bool {
				if n == 1 {
					w.entryWith(id, "cn=g", "member;range=0-1", "cn=a", "cn=b")
				} else {
					tt.second(id, w)
				}
				w.done(id, goldap.ApplicationSearchResultDone, 0)
				return false
			}))
			vals, _, err := c.Values(context.Background(), "cn=g", "member")
			if tt.want < 0 {
				if err == nil || roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Values() = %v, %v; want %q", vals, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(vals) != tt.want {
				t.Fatalf("Values() = %v, %v; want %d members", vals, err, tt.want)
			}
		})
	}
}
