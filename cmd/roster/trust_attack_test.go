package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// leaf signs a server certificate for the names.
func (ca *testCA) leaf(t *testing.T, dnsNames []string, ips []net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dnsNames[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: dnsNames, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// fakeLDAPS is an attacker's LDAPS server: it completes the TLS
// handshake and keeps every byte a client sends, to look for passwords
// in its bind requests. It never answers.
type fakeLDAPS struct {
	addr string
	mu   sync.Mutex
	got  []byte
	conn int
}

func startFakeLDAPS(t *testing.T, cert tls.Certificate) *fakeLDAPS {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLDAPS{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conn++
			f.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					f.mu.Lock()
					f.got = append(f.got, buf[:n]...)
					f.mu.Unlock()
					if err != nil || n == 0 {
						return
					}
				}
			}()
		}
	}()
	return f
}

func (f *fakeLDAPS) received(secret string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Contains(f.got, []byte(secret))
}

// The attack of issue 13: an admin token (or a stolen session) leaves
// the stored bind password out, changes only the trusted CA or the pin to
// match a fake LDAPS server's certificate, and presses Test, or saves
// and then tests. The address is already the fake server's: the attacker
// holds the path, or the DNS. roster must never send it the stored
// password. A test with a password typed in goes through, which shows
// the fake server would have caught the real one.
func TestTheStoredPasswordNeverGoesToAServerTrustedAnew(t *testing.T) {
	const adminPW, realPW, typedPW = "Trust-Attack-Admin-Password-1", "Real-Bind-Password-Stolen-9", "Typed-Again-Password-3"
	realCA, evilCA := newTestCA(t, "Corp Real CA"), newTestCA(t, "Attacker CA")
	leaf := evilCA.leaf(t, []string{"ldaps.corp.test"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	fake := startFakeLDAPS(t, leaf)
	sum := sha256.Sum256(leaf.Certificate[0])

	var logs lockedBuffer
	url, _, stop := serveLogged(t, map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, t.TempDir(), &logs)
	defer stop()
	a := signIn(t, url, adminPW)
	source := func() map[string]any {
		return map[string]any{"name": "corp", "type": "ad", "address": fake.addr, "tls": "ldaps", "domain": "corp.test",
			"login": "svc-print", "ca_pem": realCA.pem}
	}
	created := source()
	created["password"] = realPW
	code, body := a.call("POST", "/api/v1/sources", created)
	if code != 201 || body["password_set"] != true {
		t.Fatalf("create = %d %v", code, body)
	}
	id := int(body["id"].(float64))
	defer func() { // checked even when a step below stops the test
		if fake.received(realPW) {
			t.Error("the stored bind password reached the fake LDAPS server")
		}
	}()

	for name, change := range map[string]func(m map[string]any){
		"a new CA":  func(m map[string]any) { m["ca_pem"] = evilCA.pem },
		"a new pin": func(m map[string]any) { delete(m, "ca_pem"); m["pin_sha256"] = hex.EncodeToString(sum[:]) },
	} {
		attack := source()
		change(attack)
		attack["id"] = id
		if code, body := a.call("POST", "/api/v1/sources/test", attack); code != 400 || !strings.Contains(a.responses[len(a.responses)-1], "enter the password again") {
			t.Errorf("a test with %s and the stored password = %d %v, want 400", name, code, body)
		}
	}
	// Saved, the new CA drops the stored password; a test then has none
	// to send.
	attack := source()
	attack["ca_pem"] = evilCA.pem
	code, body = a.call("PUT", "/api/v1/sources/"+strconv.Itoa(id), attack)
	if code != 200 || body["password_set"] != false || !strings.Contains(a.responses[len(a.responses)-1], "enter the password again") {
		t.Fatalf("an update of the CA without the password = %d %v", code, body)
	}
	attack["id"] = id
	if code, body := a.call("POST", "/api/v1/sources/test", attack); body["ok"] == true {
		t.Fatalf("a test after the password was dropped = %d %v", code, body)
	}
	// The control: with a password typed in, the test goes to the fake
	// server, which catches it.
	attack["password"] = typedPW
	a.call("POST", "/api/v1/sources/test", attack)
	if !fake.received(typedPW) {
		t.Fatal("the fake LDAPS server did not catch a typed password: it could not have caught the stored one either")
	}
	if !strings.Contains(logs.String(), "trust settings changed") || strings.Contains(logs.String(), realPW) {
		t.Fatalf("the log does not record the trust change, or shows the password:\n%s", logs.String())
	}
}
