package faultproxy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// server is a tiny request-answer server: each request is a 4-byte
// length n, and its answer n bytes of a pattern that depends on the
// request's number. It counts the requests it received.
type server struct {
	l        net.Listener
	received atomic.Int64
}

func startServer(t *testing.T, cfg *tls.Config) *server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	s := &server{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for i := 0; i < 100; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *server) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var hdr [4]byte
	for turn := 0; turn < 1000; turn++ {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		s.received.Add(1)
		if _, err := c.Write(answer(turn, int(binary.BigEndian.Uint32(hdr[:])))); err != nil {
			return
		}
	}
}

func answer(turn, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + turn)
	}
	return b
}

// ask sends request number turn for n bytes and reads the answer.
func ask(c net.Conn, turn, n int) ([]byte, error) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(n))
	if _, err := c.Write(hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	k, err := io.ReadFull(c, b)
	return b[:k], err
}

func start(t *testing.T, target string, f Fault, lim Limits) *Proxy {
	t.Helper()
	p, err := Start(target, f, lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
		t.Fatalf("the proxy listens on %s, not on 127.0.0.1 only", p.Addr())
	}
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

var sizes = []int{100, 5000, 70000, 10, 1}

// A clean pass forwards every byte and counts the turns of every
// connection, in order.
func TestACleanPassCountsBoundariesAndBytes(t *testing.T) {
	s := startServer(t, nil)
	p := start(t, s.l.Addr().String(), Fault{}, Limits{})
	total := 0
	for conn := 1; conn <= 2; conn++ {
		c := dial(t, p)
		for turn, n := range sizes {
			got, err := ask(c, turn, n)
			if err != nil || !bytes.Equal(got, answer(turn, n)) {
				t.Fatalf("connection %d, request %d: %v, %d bytes", conn, turn, err, len(got))
			}
			total += n
		}
		c.Close()
	}
	r := waitReport(t, p, func(r Report) bool { return r.ClientBytes == int64(2*4*len(sizes)) })
	if r.Conns != 2 || r.Boundaries != 2*(len(sizes)-1) || r.ServerBytes != int64(total) || r.Fired {
		t.Fatalf("report: %s; want 2 connections, %d boundaries, %d server bytes", r, 2*(len(sizes)-1), total)
	}
	for i, b := range r.Turns {
		wantConn := 1 + i/(len(sizes)-1)
		if b.N != i+1 || b.Conn != wantConn || !b.Answered {
			t.Errorf("boundary %d: %+v; want number %d on connection %d, answered", i, b, i+1, wantConn)
		}
	}
	if off := r.Turns[0].Offset; off != int64(sizes[0]) {
		t.Errorf("boundary 1 comes after %d server bytes, want %d", off, sizes[0])
	}
}

// waitReport waits, at most 5 s, until the report satisfies ok.
func waitReport(t *testing.T, p *Proxy, ok func(Report) bool) Report {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := p.Report()
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not get there: %s", r)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A cut at boundary n reaches the client as an end of stream (FIN) or a
// reset (RST) while it waits for the answer to its request, which never
// reached the server.
func TestACutAtABoundary(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		want func(error) bool
	}{
		{CutFIN, func(err error) bool { return errors.Is(err, io.EOF) }},
		{CutRST, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			s := startServer(t, nil)
			p := start(t, s.l.Addr().String(), Fault{Kind: tt.kind, Boundary: 2}, Limits{})
			c := dial(t, p)
			for turn := 0; turn < 2; turn++ {
				if _, err := ask(c, turn, sizes[turn]); err != nil {
					t.Fatalf("request %d, before the cut: %v", turn, err)
				}
			}
			got, err := ask(c, 2, sizes[2])
			if len(got) != 0 || !tt.want(err) {
				t.Fatalf("the request after boundary 2 read %d bytes, error %v", len(got), err)
			}
			r := p.Report()
			if !r.Fired || r.At.Boundary != 2 || r.At.Conn != 1 || r.At.Offset != int64(sizes[0]+sizes[1]) || s.received.Load() != 2 {
				t.Fatalf("report: %s; the server received %d requests; want the fault at boundary 2, the third request held back", r, s.received.Load())
			}
		})
	}
}

// A boundary past the end of the conversation never comes: the fault
// does not fire and every byte passes.
func TestAFaultPastTheEndDoesNotFire(t *testing.T) {
	s := startServer(t, nil)
	p := start(t, s.l.Addr().String(), Fault{Kind: CutRST, Boundary: len(sizes)}, Limits{})
	c := dial(t, p)
	for turn, n := range sizes {
		if got, err := ask(c, turn, n); err != nil || !bytes.Equal(got, answer(turn, n)) {
			t.Fatalf("request %d: %v", turn, err)
		}
	}
	if r := p.Report(); r.Fired || r.Boundaries != len(sizes)-1 {
		t.Fatalf("report: %s", r)
	}
}

// A cut at a byte offset passes exactly the bytes before it.
func TestACutAtAByteOffset(t *testing.T) {
	s := startServer(t, nil)
	p := start(t, s.l.Addr().String(), Fault{Kind: CutAtByte, Offset: 100 + 1234}, Limits{})
	c := dial(t, p)
	if _, err := ask(c, 0, 100); err != nil {
		t.Fatal(err)
	}
	got, err := ask(c, 1, 5000)
	if len(got) != 1234 || !bytes.Equal(got, answer(1, 5000)[:1234]) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read %d bytes, error %v; want the first 1234 and an unexpected EOF", len(got), err)
	}
	if r := p.Report(); !r.Fired || r.At.Offset != 1334 || r.At.Boundary != 1 || r.At.Record.Known {
		t.Fatalf("report: %s", r)
	}
}

// A corrupted byte is the only byte that changes.
func TestACorruptedByte(t *testing.T) {
	s := startServer(t, nil)
	p := start(t, s.l.Addr().String(), Fault{Kind: Corrupt, Offset: 100 + 4000}, Limits{})
	c := dial(t, p)
	if _, err := ask(c, 0, 100); err != nil {
		t.Fatal(err)
	}
	got, err := ask(c, 1, 70000)
	want := answer(1, 70000)
	if err != nil || len(got) != len(want) {
		t.Fatalf("read %d bytes, error %v", len(got), err)
	}
	for i := range want {
		if (got[i] != want[i]) != (i == 4000) {
			t.Fatalf("byte %d is %#x, want %#x; only byte 4000 may change", i, got[i], want[i])
		}
	}
	if r := p.Report(); !r.Fired || r.At.Offset != 4100 {
		t.Fatalf("report: %s", r)
	}
}

// A stall holds the request until the client gives up, or until the
// stall's limit, then closes.
func TestAStall(t *testing.T) {
	s := startServer(t, nil)
	t.Run("until the client gives up", func(t *testing.T) {
		p := start(t, s.l.Addr().String(), Fault{Kind: Stall, Boundary: 1}, Limits{})
		c := dial(t, p)
		if _, err := ask(c, 0, 100); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := ask(c, 1, 100); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a stalled request: %v; want the client's own timeout", err)
		}
		c.Close()
		r := waitReport(t, p, func(r Report) bool { return r.Stalled > 0 })
		// The client's 200 ms start before its request reaches the
		// proxy, so the stall the proxy measures is a little shorter;
		// what matters is that it held until the client gave up.
		if !r.Fired || r.At.Boundary != 1 || r.Stalled < 150*time.Millisecond {
			t.Fatalf("report: %s", r)
		}
	})
	t.Run("until its limit", func(t *testing.T) {
		p := start(t, s.l.Addr().String(), Fault{Kind: Stall, Boundary: 1}, Limits{Stall: 100 * time.Millisecond})
		c := dial(t, p)
		if _, err := ask(c, 0, 100); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		if _, err := ask(c, 1, 100); !errors.Is(err, io.EOF) || time.Since(begin) > 10*time.Second {
			t.Fatalf("a request stalled past the limit: %v after %v; want an end of stream", err, time.Since(begin))
		}
	})
}

// A drip slows the answers without losing a byte, and its pauses stay
// within the budget.
func TestADripDeliversEverythingSlowly(t *testing.T) {
	s := startServer(t, nil)
	p := start(t, s.l.Addr().String(), Fault{Kind: Drip, Chunk: 100, Delay: time.Millisecond, Budget: 30 * time.Millisecond}, Limits{})
	c := dial(t, p)
	for turn, n := range sizes {
		if got, err := ask(c, turn, n); err != nil || !bytes.Equal(got, answer(turn, n)) {
			t.Fatalf("request %d: %v", turn, err)
		}
	}
	if r := p.Report(); !r.Fired || r.Dripped != 30*time.Millisecond {
		t.Fatalf("report: %s; want 30 ms of pauses, the budget", r)
	}
}

// Close ends every connection, a stalled one included, and returns once
// the proxy's goroutines are done; later connections are refused.
func TestCloseEndsEverything(t *testing.T) {
	s := startServer(t, nil)
	p, err := Start(s.l.Addr().String(), Fault{Kind: Stall, Boundary: 1}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p)
	if _, err := ask(c, 0, 100); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ask(c, 1, 100); done <- err }()
	waitReport(t, p, func(r Report) bool { return r.Fired })
	begin := time.Now()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || time.Since(begin) > 5*time.Second {
		t.Fatalf("the stalled client read %v, %v after Close", err, time.Since(begin))
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("a closed proxy accepts connections")
	}
}

// A proxy accepts Limits.Conns connections; later ones are refused.
func TestConnectionsAreBounded(t *testing.T) {
	s := startServer(t, nil)
	p := start(t, s.l.Addr().String(), Fault{}, Limits{Conns: 1})
	if _, err := ask(dial(t, p), 0, 10); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ { // until the listener is closed: 2 s at most
		c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = ask(c, 0, 10)
		c.Close()
		if err != nil {
			return
		}
		t.Fatal("a connection past the limit was served")
	}
}

func TestStartRefusesAFaultWithoutItsPlace(t *testing.T) {
	for _, f := range []Fault{{Kind: CutFIN}, {Kind: Stall, Boundary: -1}, {Kind: Corrupt, Offset: -1}, {Kind: "melt"}} {
		if p, err := Start("127.0.0.1:1", f, Limits{}); err == nil {
			p.Close()
			t.Errorf("Start(%+v) succeeded", f)
		}
	}
}

// On a TLS stream the proxy follows the records: a byte fault lands in a
// record's body, a cut leaves that record incomplete, a corrupted byte
// fails its authentication, and TLS passes through with the
// certificate checked by name.
func TestTLSPassesThroughAndByteFaultsHitARecord(t *testing.T) {
	serverCfg, clientCfg := tlsConfigs(t)
	s := startServer(t, serverCfg)
	conversation := func(p *Proxy) error {
		raw := dial(t, p)
		c := tls.Client(raw, clientCfg)
		for turn := 0; turn < 3; turn++ {
			got, err := ask(c, turn, 60000)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, answer(turn, 60000)) {
				return errors.New("the answer changed")
			}
		}
		return c.Close()
	}

	clean := start(t, s.l.Addr().String(), Fault{}, Limits{})
	if err := conversation(clean); err != nil {
		t.Fatalf("clean pass: %v", err)
	}
	r := waitReport(t, clean, func(r Report) bool { return r.Conns == 1 && r.Open == 0 })
	total := r.ServerBytes
	// The last boundary is the client's close_notify, which the server
	// answers with its own: an alert, not an answer.
	for i, b := range r.Turns {
		if b.Answered != (i < len(r.Turns)-1) {
			t.Errorf("boundary %d of %d: answered %v", b.N, len(r.Turns), b.Answered)
		}
	}

	cut := start(t, s.l.Addr().String(), Fault{Kind: CutAtByte, Offset: total / 2}, Limits{})
	err := conversation(cut)
	r = cut.Report()
	if err == nil || !r.Fired || !r.At.Record.Inside() || r.At.Record.Type != 23 {
		t.Fatalf("cut mid-stream: %v; report: %s; want a cut inside an application data record", err, r)
	}

	bad := start(t, s.l.Addr().String(), Fault{Kind: Corrupt, Offset: total / 2}, Limits{})
	err = conversation(bad)
	r = bad.Report()
	if err == nil || !strings.Contains(err.Error(), "tls") || !r.At.Record.Inside() || r.At.Record.Type != 23 {
		t.Fatalf("corrupt byte: %v; report %s; want a TLS error", err, r)
	}

	// Byte 0 is the first record's header: the fault moves to its body.
	first := start(t, s.l.Addr().String(), Fault{Kind: Corrupt, Offset: 0}, Limits{})
	err = conversation(first)
	if r := first.Report(); err == nil || r.At.Record.Pos != 5 || r.At.Record.Type != 22 || r.At.Offset != 5 {
		t.Fatalf("corrupt byte 0: %v; report %s; want the first byte of the handshake record's body", err, r)
	}
}

// tlsConfigs makes a throwaway CA-less certificate for the name
// ldap.example.test, and a client that trusts exactly it.
func tlsConfigs(t *testing.T) (*tls.Config, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ldap.example.test"},
		DNSNames:              []string{"ldap.example.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "ldap.example.test"}
}
