// Package ldap is roster's directory client: it dials Active Directory,
// Entra Domain Services and OpenLDAP over LDAPS or StartTLS with the
// certificate verified, binds, and streams paged searches.
//
// What differs between types of directory on the wire (the anchor
// attribute, the user and group filters, what "disabled" means, the kind
// of change tracking) is each type's Dialect, in dialect.go: the sync's
// Directory and the connection test's Survey both read entries through it.
//
// Every error it returns is a *roster.Error whose message an admin can act
// on; the LDAP result codes and AD's "data 52e" sub-codes are translated in
// errors.go.
package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

// Conn is one connection to a directory, protected by TLS (unless the
// source explicitly allows plain LDAP) and, after Bind, authenticated.
// A Conn is not safe for concurrent searches that page: use one per run.
type Conn struct {
	src            *roster.Source
	addr           string // host:port, for messages
	conn           *goldap.Conn
	raw            net.Conn
	wire           *wire // under go-ldap: the typed cause of a failure
	tls            *tls.ConnectionState
	verify         *verifier
	timeout        time.Duration // per request
	connectTimeout time.Duration // dial, TLS set-up and bind
	now            func() time.Time
}

// Dialer opens connections. Its zero value is ready to use; Now is the
// clock that certificate messages are written against (time.Now if nil).
type Dialer struct {
	Now func() time.Time
}

// Dial is Dialer{}.Dial.
func Dial(ctx context.Context, src *roster.Source) (*Conn, error) {
	return Dialer{}.Dial(ctx, src)
}

// SignIn dials and binds as src's login: a connection ready for
// searches and writes. The caller closes it. Errors: as Dial and Bind.
func (dl Dialer) SignIn(ctx context.Context, src *roster.Source) (*Conn, error) {
	c, err := dl.Dial(ctx, src)
	if err != nil {
		return nil, err
	}
	if err := c.Bind(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Dial connects and sets up TLS; see the package-level Dial.
func (dl Dialer) Dial(ctx context.Context, src *roster.Source) (*Conn, error) {
	return dl.dial(ctx, src, false)
}

// Dial connects to the source's directory and sets up TLS: the TLS
// handshake for LDAPS, or the StartTLS extended operation. It does not
// bind. The certificate is checked as src.Trust says (see tls.go).
//
// Errors: EINVALID for a source that fails Validate's address and trust
// checks; EUNAVAILABLE when nothing answers; ETLS when the handshake or
// the certificate check fails, with the certificate's details and the fix.
func (dl Dialer) dial(ctx context.Context, src *roster.Source, probe bool) (*Conn, error) {
	host, port, err := src.Endpoint()
	if err != nil {
		return nil, err
	}
	v, err := newVerifier(src)
	if err != nil {
		return nil, err
	}
	v.record = probe
	c := &Conn{
		src:            src,
		addr:           net.JoinHostPort(host, strconv.Itoa(port)),
		verify:         v,
		timeout:        orDefault(src.RequestTimeout, roster.DefaultRequestTimeout),
		connectTimeout: orDefault(src.ConnectTimeout, roster.DefaultConnectTimeout),
		now:            dl.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	ctx, cancel := context.WithTimeout(ctx, c.connectTimeout)
	defer cancel()

	d := net.Dialer{}
	raw, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, c.dialError(err)
	}
	// The deadline bounds the TLS handshake and StartTLS, which go-ldap
	// runs without one; it is lifted once the connection is ready.
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	c.raw = raw
	// Cancelling ctx during StartTLS must interrupt it too.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	switch src.Mode() {
	case roster.LDAPS:
		tc := tls.Client(raw, v.config())
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, c.tlsError(err)
		}
		st := tc.ConnectionState()
		c.tls = &st
		c.wire = &wire{Conn: tc, lean: newLeanEntries()}
		c.conn = goldap.NewConn(c.wire, true)
		c.conn.Start()
	case roster.StartTLS:
		// roster asks for StartTLS itself, rather than through go-ldap,
		// so that its wire sits above TLS and reads LDAP in the clear, as
		// with LDAPS.
		c.wire = &wire{Conn: raw}
		tc, err := startTLS(ctx, c.wire, v.config())
		if err != nil {
			raw.Close()
			return nil, c.startTLSError(ctx, err)
		}
		st := tc.ConnectionState()
		c.tls = &st
		c.wire = &wire{Conn: tc, lean: newLeanEntries()}
		c.conn = goldap.NewConn(c.wire, true)
		c.conn.Start()
	default: // Plain, allowed by Validate only with AllowInsecure
		c.wire = &wire{Conn: raw, lean: newLeanEntries()}
		c.conn = goldap.NewConn(c.wire, false)
		c.conn.Start()
	}
	if !stop() {
		c.Close()
		return nil, c.dialError(ctx.Err())
	}
	raw.SetDeadline(time.Time{})
	c.conn.SetTimeout(c.timeout)
	return c, nil
}

// Bind authenticates as the source's login. A failed bind is returned at
// once and never retried: AD and Entra DS lock an account after a few bad
// passwords, and a retry loop would lock out the sync account.
//
// Errors: EUNAUTHORIZED for rejected credentials, with AD's reason (wrong
// password, disabled, expired, locked, must change); EINVALID when the
// server wants TLS for the bind; EUNAVAILABLE when the connection drops.
func (c *Conn) Bind(ctx context.Context) error {
	name, err := c.src.BindName()
	if err != nil {
		return err
	}
	if err := c.src.ValidatePassword(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.connectTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.conn.Bind(name, c.src.Password.Reveal()) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Closing the connection ends the bind; the goroutine then
		// returns into the buffered channel and exits.
		c.conn.Close()
		return c.signInLost(ctx.Err())
	}
	if err != nil {
		return c.bindError(err)
	}
	return nil
}

// TLS returns the state of the TLS session, or nil on a plain connection.
func (c *Conn) TLS() *tls.ConnectionState { return c.tls }

// Verified says how the server's certificate was accepted: "chain" when
// it verified against the trusted roots, "pin" when it matched the pinned
// fingerprint, "none" when verification is off or TLS is not used.
func (c *Conn) Verified() string {
	if c.tls == nil {
		return "none"
	}
	return c.verify.how()
}

// Addr returns host:port of the directory.
func (c *Conn) Addr() string { return c.addr }

// Close closes the connection. It is safe to call more than once.
func (c *Conn) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// wire keeps the first error a connection's reads or writes met: go-ldap
// turns it into text, and an admin needs to know whether the directory
// closed the connection, reset it, or its TLS failed. Where it carries
// LDAP in the clear (LDAPS above TLS, or plain LDAP), it also decodes
// search result entries for go-ldap (see lean.go).
type wire struct {
	net.Conn
	mu    sync.Mutex
	err   error
	first byte // the first byte the directory sent; 0 before any

	// Read on go-ldap's reader goroutine only.
	lean  *leanEntries // nil: the bytes pass as they are read
	buf   []byte       // what in and out were cut from
	in    []byte       // read, not yet framed
	out   []byte       // framed, for go-ldap
	obuf  []byte       // what out is cut from
	pass  int          // bytes of a large message still to stream through
	rerr  error        // the read error, for go-ldap once out is drained
	run   []*Entry     // entries decoded, not yet out (see frame)
	runID []byte       // their messageID element
}

func (w *wire) Read(p []byte) (int, error) {
	if w.lean == nil {
		return w.read(p)
	}
	for len(w.out) == 0 {
		if w.rerr != nil {
			return 0, w.rerr
		}
		w.fill()
	}
	n := copy(p, w.out)
	w.out = w.out[n:]
	return n, nil
}

// leanRead is how much the wire reads from the connection at a time.
const leanRead = 32 << 10

// fill reads once from the connection and frames what came.
func (w *wire) fill() {
	if len(w.in) == 0 {
		w.in = w.buf[:0]
	}
	if cap(w.in)-len(w.in) < leanRead {
		if len(w.in)+leanRead <= cap(w.buf) {
			n := copy(w.buf[:cap(w.buf)], w.in) // to the front: copy allows the overlap
			w.in = w.buf[:n]
		} else {
			next := make([]byte, len(w.in), 2*len(w.in)+4*leanRead)
			copy(next, w.in)
			w.buf, w.in = next, next
		}
	}
	w.out = w.obuf[:0]
	n, err := w.readAfterRun(w.in[len(w.in) : len(w.in)+leanRead])
	w.in = w.in[:len(w.in)+n]
	w.frame()
	if err != nil {
		// What was read of a message stays as it came: go-ldap then
		// meets the end of the connection where the directory left it,
		// after the entries that came before.
		w.flushRun()
		w.out = append(w.out, w.in...)
		w.in = w.in[:0]
		w.rerr = err
	}
	w.obuf = w.out[:0]
}

// readAfterRun reads once from the connection. With a run of entries
// held (see frame), it waits at most leanLinger for more, then sends the
// run out instead: a directory that stops in the middle of a page has its
// entries read all the same, before the request's timeout says it went
// silent.
func (w *wire) readAfterRun(p []byte) (int, error) {
	if len(w.run) == 0 {
		return w.read(p)
	}
	// Only go-ldap's reader reads, and nothing else sets a deadline once
	// the connection is up (Dial lifts the handshake's).
	w.Conn.SetReadDeadline(time.Now().Add(leanLinger))
	n, err := w.Conn.Read(p)
	w.Conn.SetReadDeadline(time.Time{})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if n == 0 {
			w.flushRun()
		}
		return n, nil
	}
	w.note(err)
	return n, err
}

// leanLinger is how long a run of entries waits for the next message.
// slapd sends each entry in a TLS record of its own, and the next is
// nearly always in by then.
const leanLinger = 5 * time.Millisecond

func (w *wire) read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 {
		w.mu.Lock()
		if w.first == 0 {
			w.first = p[0]
		}
		w.mu.Unlock()
	}
	w.note(err)
	return n, err
}

// spokeLDAP reports whether the directory's first byte opened an LDAP
// message (a BER SEQUENCE), as a StartTLS answer does; a TLS record
// starts otherwise.
func (w *wire) spokeLDAP() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first == 0x30
}

func (w *wire) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	w.note(err)
	return n, err
}

func (w *wire) note(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// cause is the first error seen, or nil.
func (w *wire) cause() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
