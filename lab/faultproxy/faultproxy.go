// Package faultproxy is a TCP proxy on 127.0.0.1 that plays a failing
// network between roster and a directory of the lab. It forwards bytes
// untouched, so TLS passes through and roster still checks the
// directory's certificate, and it injects at most one fault per proxy: a
// cut (FIN or RST) at a response boundary or at a byte offset, a stall, a
// slow drip, or one corrupted byte.
//
// A response boundary is a turn of the conversation: the moment the
// client starts sending after the server has sent. Boundary n is right
// after the server finished its n-th answer, before the client's next
// request reaches the server. Boundaries and server bytes are numbered
// over all connections in the order the proxy sees them (roster reads a
// directory through one connection at a time).
//
// Everything is bounded: the connections accepted, each connection's
// lifetime, a stall, a drip's delays. Close ends every connection.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Kind is a fault.
type Kind string

const (
	None Kind = "none" // forward everything: a clean pass, to count boundaries and bytes
	// CutFIN closes both connections at Fault.Boundary, the client's with
	// an orderly FIN, as a directory or a firewall that drops an idle
	// connection does. The client's pending request never reaches the
	// server.
	CutFIN Kind = "fin"
	// CutRST resets the client's connection at Fault.Boundary (SO_LINGER
	// 0, then close), as a load balancer that forgets a connection does.
	CutRST Kind = "rst"
	// CutAtByte forwards the first Fault.Offset server bytes and then
	// closes both connections (FIN). When the stream is TLS and the
	// offset falls on a record's header, the cut moves on to the start of
	// that record's body: the client always gets a record cut short.
	CutAtByte Kind = "cut-byte"
	// Stall forwards nothing more, either way, from Fault.Boundary on,
	// until the client closes, Limits.Stall passes (then both connections
	// close), or the proxy closes.
	Stall Kind = "stall"
	// Drip forwards server bytes in pieces of Fault.Chunk bytes,
	// Fault.Delay apart, until the delays add up to Fault.Budget; after
	// that, at full speed. Nothing is lost: a drip only slows.
	Drip Kind = "drip"
	// Corrupt flips every bit of the server byte at Fault.Offset. When the
	// stream is TLS and the offset falls on a record's header, the first
	// byte of that record's body is flipped instead, so the record fails
	// its authentication (a bad record MAC) rather than its framing.
	Corrupt Kind = "corrupt"
)

// Kinds lists the faults, None first.
var Kinds = []Kind{None, CutFIN, CutRST, CutAtByte, Stall, Drip, Corrupt}

// Fault says what to inject, and where.
type Fault struct {
	Kind     Kind
	Boundary int           // CutFIN, CutRST, Stall: the response boundary, from 1
	Offset   int64         // CutAtByte, Corrupt: the server-to-client byte, from 0
	Chunk    int           // Drip: bytes per piece (default 512)
	Delay    time.Duration // Drip: pause between pieces (default 1 ms)
	Budget   time.Duration // Drip: the most time spent pausing (default 5 s)
}

func (f Fault) String() string {
	switch f.Kind {
	case CutFIN, CutRST, Stall:
		return fmt.Sprintf("%s at boundary %d", f.Kind, f.Boundary)
	case CutAtByte, Corrupt:
		return fmt.Sprintf("%s at byte %d", f.Kind, f.Offset)
	case Drip:
		return fmt.Sprintf("drip %d bytes every %v, for %v at most", f.Chunk, f.Delay, f.Budget)
	}
	return string(f.Kind)
}

// Limits bound a proxy. Zero fields take the defaults.
type Limits struct {
	Conns   int           // connections accepted; later ones are refused (default 32)
	Life    time.Duration // the longest a connection lives (default 10 min)
	Stall   time.Duration // the longest a stall holds (default 5 min)
	Connect time.Duration // to connect to the target (default 5 s)
}

func (l Limits) withDefaults() Limits {
	if l.Conns <= 0 {
		l.Conns = 32
	}
	if l.Life <= 0 {
		l.Life = 10 * time.Minute
	}
	if l.Stall <= 0 {
		l.Stall = 5 * time.Minute
	}
	if l.Connect <= 0 {
		l.Connect = 5 * time.Second
	}
	return l
}

// maxBoundaries bounds the boundaries a report lists; more are counted.
const maxBoundaries = 100_000

// maxReads bounds each direction's read loop, like every loop here.
const maxReads = 1 << 24

// Report says what went through a proxy, and whether and where the fault
// fired.
type Report struct {
	Conns       int        // connections accepted
	Open        int        // connections open now
	Boundaries  int        // response boundaries seen
	ServerBytes int64      // server-to-client bytes the client was sent
	ClientBytes int64      // client-to-server bytes the server was sent
	Turns       []Boundary // each boundary, in order (at most 100,000)
	Fired       bool
	At          Point         // where the fault fired, when it did
	Dripped     time.Duration // the time a drip spent pausing
	Stalled     time.Duration // how long a stall held
}

// Boundary is one turn of the conversation.
type Boundary struct {
	N      int   // its number, from 1
	Conn   int   // its connection, from 1
	Offset int64 // the server bytes sent before it, over all connections
	// Answered: the server sent data after it on the same connection:
	// bytes of a plain stream, or a TLS record other than an alert (a
	// close_notify answering the client's own does not count). A
	// boundary that went unanswered in a clean pass is the client's
	// goodbye (an unbind, a TLS close_notify): cutting there cannot take
	// anything from what the client read.
	Answered bool
}

// Point is where a fault fired.
type Point struct {
	Conn     int    // the connection, from 1
	Boundary int    // the boundaries seen up to the fault (the fault's own, for a boundary fault)
	Offset   int64  // the server bytes sent before the fault, over all connections
	Record   Record // the TLS record the fault hit, for a byte fault on a TLS stream
}

// Record places a byte inside a TLS record of the server's stream.
type Record struct {
	Known  bool // the stream is TLS and its records were followed
	Type   byte // 22 handshake, 23 application data, 21 alert
	Length int  // the record's body length
	Pos    int  // the byte's position in the record: 0-4 the header, 5 on the body
}

// Inside reports whether the byte is in the record's body: a cut before
// it leaves the record incomplete, a change to it fails the record's
// authentication.
func (r Record) Inside() bool { return r.Known && r.Pos >= 5 && r.Pos < 5+r.Length }

func (r Report) String() string {
	s := fmt.Sprintf("%d connections, %d boundaries, %d server bytes, %d client bytes", r.Conns, r.Boundaries, r.ServerBytes, r.ClientBytes)
	if r.Fired {
		s += fmt.Sprintf("; fired on connection %d at boundary %d, byte %d", r.At.Conn, r.At.Boundary, r.At.Offset)
		if r.At.Record.Known {
			s += fmt.Sprintf(" (TLS record type %d of %d bytes, at its byte %d)", r.At.Record.Type, r.At.Record.Length, r.At.Record.Pos)
		}
	} else {
		s += "; the fault did not fire"
	}
	if r.Dripped > 0 {
		s += fmt.Sprintf("; dripped for %v", r.Dripped.Round(time.Millisecond))
	}
	if r.Stalled > 0 {
		s += fmt.Sprintf("; stalled for %v", r.Stalled.Round(time.Millisecond))
	}
	return s
}

// Proxy is a running fault proxy.
type Proxy struct {
	target string
	fault  Fault // as given; never changes
	lim    Limits
	l      net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[*conn]bool
	rep    Report
	offset int64 // where a byte fault fires: Fault.Offset, moved off a record header
}

// conn is one proxied connection.
type conn struct {
	id             int
	client, server *net.TCPConn
	serverSent     bool // the server sent since the client last did
	last           int  // index in rep.Turns of this connection's latest boundary, or -1
	stalled        bool
	tls            records
}

// Start listens on 127.0.0.1 (a free port) and forwards each connection
// to target (host:port). The caller closes the proxy.
func Start(target string, f Fault, lim Limits) (*Proxy, error) {
	switch f.Kind {
	case None, CutFIN, CutRST, CutAtByte, Stall, Drip, Corrupt:
	case "":
		f.Kind = None
	default:
		return nil, fmt.Errorf("faultproxy: unknown fault %q", f.Kind)
	}
	if (f.Kind == CutFIN || f.Kind == CutRST || f.Kind == Stall) && f.Boundary < 1 {
		return nil, fmt.Errorf("faultproxy: %s needs a boundary from 1", f.Kind)
	}
	if (f.Kind == CutAtByte || f.Kind == Corrupt) && f.Offset < 0 {
		return nil, fmt.Errorf("faultproxy: %s needs a byte offset from 0", f.Kind)
	}
	if f.Kind == Drip {
		if f.Chunk <= 0 {
			f.Chunk = 512
		}
		if f.Delay <= 0 {
			f.Delay = time.Millisecond
		}
		if f.Budget <= 0 {
			f.Budget = 5 * time.Second
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{target: target, fault: f, offset: f.Offset, lim: lim.withDefaults(), l: l, conns: map[*conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, 127.0.0.1:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Report returns what went through so far.
func (p *Proxy) Report() Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rep
	r.Turns = append([]Boundary(nil), p.rep.Turns...)
	return r
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.client.Close()
		c.server.Close()
	}
	p.mu.Unlock()
	err := p.l.Close()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	defer p.l.Close() // after Limits.Conns, later connections are refused
	for i := 0; i < p.lim.Conns; i++ {
		nc, err := p.l.Accept()
		if err != nil {
			return
		}
		client := nc.(*net.TCPConn)
		sc, err := net.DialTimeout("tcp", p.target, p.lim.Connect)
		if err != nil {
			client.SetLinger(0)
			client.Close()
			continue
		}
		c := &conn{client: client, server: sc.(*net.TCPConn), last: -1}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.client.Close()
			c.server.Close()
			return
		}
		p.rep.Conns++
		p.rep.Open++
		c.id = p.rep.Conns
		p.conns[c] = true
		p.mu.Unlock()
		deadline := time.Now().Add(p.lim.Life)
		c.client.SetDeadline(deadline)
		c.server.SetDeadline(deadline)
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve runs both directions of a connection and closes it when both end.
func (p *Proxy) serve(c *conn) {
	defer p.wg.Done()
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); p.clientToServer(c) }()
	go func() { defer both.Done(); p.serverToClient(c) }()
	both.Wait()
	c.client.Close()
	c.server.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.rep.Open--
	p.mu.Unlock()
}

// action is what a direction does with the bytes it just read.
type action int

const (
	forward action = iota
	cutFIN
	cutRST
	stall
)

func (p *Proxy) clientToServer(c *conn) {
	buf := make([]byte, 32<<10)
	for i := 0; i < maxReads; i++ {
		n, err := c.client.Read(buf)
		if n > 0 {
			switch p.clientTurn(c) {
			case cutFIN:
				p.cut(c, false)
				return
			case cutRST:
				p.cut(c, true)
				return
			case stall:
				p.stall(c)
				return
			}
			if _, werr := c.server.Write(buf[:n]); werr != nil {
				p.cut(c, false)
				return
			}
			p.mu.Lock()
			p.rep.ClientBytes += int64(n)
			p.mu.Unlock()
		}
		if err != nil {
			p.ended(c, c.server, err) // the client's FIN, passed on
			return
		}
	}
	p.cut(c, false)
}

// clientTurn counts a boundary when the client sends after the server
// did, and says whether the fault fires there.
func (p *Proxy) clientTurn(c *conn) action {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.stalled {
		return stall
	}
	if !c.serverSent {
		return forward
	}
	c.serverSent = false
	p.rep.Boundaries++
	if len(p.rep.Turns) < maxBoundaries {
		p.rep.Turns = append(p.rep.Turns, Boundary{N: p.rep.Boundaries, Conn: c.id, Offset: p.rep.ServerBytes})
		c.last = len(p.rep.Turns) - 1
	} else {
		c.last = -1
	}
	f := p.fault
	if p.rep.Fired || p.rep.Boundaries != f.Boundary {
		return forward
	}
	switch f.Kind {
	case CutFIN, CutRST, Stall:
	default:
		return forward
	}
	p.fire(c, Record{})
	switch f.Kind {
	case CutFIN:
		return cutFIN
	case CutRST:
		return cutRST
	}
	c.stalled = true
	return stall
}

// fire records where the fault fires. The caller holds p.mu.
func (p *Proxy) fire(c *conn, rec Record) {
	p.rep.Fired = true
	p.rep.At = Point{Conn: c.id, Boundary: p.rep.Boundaries, Offset: p.rep.ServerBytes, Record: rec}
}

// ended passes the end of a read on: an EOF as a FIN to the other side,
// to; anything else as a cut of both sides.
func (p *Proxy) ended(c *conn, to *net.TCPConn, err error) {
	if err == io.EOF {
		to.CloseWrite()
	} else {
		p.cut(c, false)
	}
}

// cut closes both sides of c; with rst, the client's with a reset.
func (p *Proxy) cut(c *conn, rst bool) {
	if rst {
		c.client.SetLinger(0)
	}
	c.client.Close()
	c.server.Close()
}

// stall holds c: what the client sends is dropped until it closes, the
// stall's limit passes or the proxy closes; then both sides close.
func (p *Proxy) stall(c *conn) {
	start := time.Now()
	c.client.SetReadDeadline(start.Add(p.lim.Stall))
	buf := make([]byte, 4096)
	for i := 0; i < maxReads; i++ {
		if _, err := c.client.Read(buf); err != nil {
			break
		}
	}
	p.mu.Lock()
	p.rep.Stalled += time.Since(start)
	p.mu.Unlock()
	p.cut(c, false)
}

func (p *Proxy) serverToClient(c *conn) {
	buf := make([]byte, 32<<10)
	for i := 0; i < maxReads; i++ {
		n, err := c.server.Read(buf)
		if n > 0 {
			chunk, act := p.serverTurn(c, buf[:n])
			if len(chunk) > 0 && !p.write(c, chunk) {
				p.cut(c, false)
				return
			}
			if act != forward {
				p.cut(c, false)
				return
			}
		}
		if err != nil {
			p.ended(c, c.client, err) // the server's FIN, passed on
			return
		}
	}
	p.cut(c, false)
}

// serverTurn accounts for server bytes about to go to the client, fires
// a byte fault that falls in them, and returns what to send: all of b,
// b with one byte flipped, or (cutFIN) the part before the cut. A stalled
// connection sends nothing.
func (p *Proxy) serverTurn(c *conn, b []byte) ([]byte, action) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.stalled {
		return nil, forward
	}
	if !c.serverSent {
		c.tls.turn(b)
	}
	c.serverSent = true
	defer func() {
		if c.tls.data && c.last >= 0 {
			p.rep.Turns[c.last].Answered = true
		}
		c.tls.data = false
	}()
	out, act := b, forward
	f := p.fault
	if !p.rep.Fired && (f.Kind == CutAtByte || f.Kind == Corrupt) && p.offset < p.rep.ServerBytes+int64(len(b)) {
		k := int(max(p.offset-p.rep.ServerBytes, 0))
		c.tls.advance(b[:k])
		rec := c.tls.where()
		if rec.Known && rec.Pos < 5 {
			// On a header: move to the body's first byte.
			skip := 5 - rec.Pos
			if k+skip >= len(b) {
				// In a later read: fire there.
				p.offset = p.rep.ServerBytes + int64(k+skip)
				c.tls.advance(b[k:])
				p.rep.ServerBytes += int64(len(b))
				return b, forward
			}
			c.tls.advance(b[k : k+skip])
			k += skip
			rec = c.tls.where()
		}
		p.rep.ServerBytes += int64(k)
		p.fire(c, rec)
		if f.Kind == Corrupt {
			out = append([]byte(nil), b...)
			out[k] ^= 0xff
			c.tls.advance(b[k:])
			p.rep.ServerBytes += int64(len(b) - k)
			return out, forward
		}
		return b[:k], cutFIN
	}
	c.tls.advance(b)
	p.rep.ServerBytes += int64(len(b))
	return out, act
}

// write sends b to the client, in pieces with pauses while a drip lasts.
func (p *Proxy) write(c *conn, b []byte) bool {
	f := p.fault
	for i := 0; i < maxReads && len(b) > 0; i++ {
		n := len(b)
		var pause time.Duration
		if f.Kind == Drip {
			p.mu.Lock()
			if p.rep.Dripped+f.Delay <= f.Budget {
				n, pause = min(n, f.Chunk), f.Delay
				p.rep.Dripped += f.Delay
				if !p.rep.Fired {
					p.fire(c, Record{})
				}
			}
			p.mu.Unlock()
		}
		if _, err := c.client.Write(b[:n]); err != nil {
			return false
		}
		b = b[n:]
		time.Sleep(pause)
	}
	return len(b) == 0
}

// records follows the TLS records of a server's stream, to place a byte
// fault inside one. It starts at the first server turn that begins like
// a TLS handshake record (after StartTLS, the turn after the plain LDAP
// answer).
type records struct {
	data   bool // advance passed data: plain bytes, or a record that is not an alert
	on     bool
	hdr    [5]byte
	hn     int // header bytes read of the current record
	left   int // body bytes left of the current record
	typ    byte
	length int
}

func (r *records) turn(b []byte) {
	if !r.on && len(b) >= 2 && b[0] == 22 && b[1] == 3 {
		r.on = true
	}
}

func (r *records) advance(b []byte) {
	if !r.on {
		r.data = r.data || len(b) > 0
		return
	}
	for len(b) > 0 {
		if r.left > 0 {
			k := min(r.left, len(b))
			r.left -= k
			b = b[k:]
			continue
		}
		r.hdr[r.hn] = b[0]
		r.hn++
		b = b[1:]
		if r.hn == 5 {
			r.typ = r.hdr[0]
			r.length = int(r.hdr[3])<<8 | int(r.hdr[4])
			r.left = r.length
			r.hn = 0
			r.data = r.data || !alert(r.typ, r.length)
		}
	}
}

// alert reports whether a record is a TLS alert: its type says so up to
// TLS 1.2; TLS 1.3 hides the type, but an encrypted alert is 19 bytes (a
// 2-byte alert, the inner type, a 16-byte AEAD tag), shorter than a
// sealed LDAP message.
func alert(typ byte, length int) bool {
	return typ == 21 || typ == 23 && length == 19
}

// where places the next byte of the stream.
func (r *records) where() Record {
	if !r.on {
		return Record{}
	}
	if r.left == 0 {
		return Record{Known: true, Pos: r.hn}
	}
	return Record{Known: true, Type: r.typ, Length: r.length, Pos: 5 + r.length - r.left}
}
