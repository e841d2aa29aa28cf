package ldap_test

// What an admin sees when TLS is not right, against the real lab servers.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
)

func dialErr(t *testing.T, src *roster.Source) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), labenv.Budget(20*time.Second))
	defer cancel()
	c, err := ldap.Dial(ctx, src)
	if err == nil {
		c.Close()
	}
	return err
}

func TestLabTLSFailuresNameTheProblemAndTheFix(t *testing.T) {
	env := labenv.Require(t)
	tests := []struct {
		name     string
		dir      labenv.Directory
		mode     roster.TLSMode
		change   func(*roster.Source)
		wantCode string
		want     []string
	}{
		{"an unknown CA asks to trust the .cer or pin the fingerprint", labenv.AD, roster.LDAPS,
			func(s *roster.Source) { s.Trust.CAPEM = nil },
			roster.ETLS, []string{"is not trusted", "-ca", "-pin-sha256", "SHA-256 ", "issued by CN=roster lab CA"}},
		{"an unknown CA over StartTLS is explained the same way", labenv.OpenLDAP, roster.StartTLS,
			func(s *roster.Source) { s.Trust.CAPEM = nil },
			roster.ETLS, []string{"is not trusted", "-ca"}},
		{"a name the certificate lacks names the names it has", labenv.AD, roster.LDAPS,
			func(s *roster.Source) { s.Trust.ServerName = "dc1.other.test" },
			roster.ETLS, []string{"is for *.corp.test, corp.test, not for dc1.other.test", "ldaps.domain"}},
		{"an IP address without a domain cannot match a wildcard", labenv.OpenLDAP, roster.LDAPS,
			func(s *roster.Source) { s.Trust.ServerName = ""; s.Domain = "" },
			roster.ETLS, []string{"not for 127.0.0.1"}},
		{"a wrong pin says the certificate is not the pinned one", labenv.AD, roster.StartTLS,
			func(s *roster.Source) { s.Trust.PinSHA256 = strings.Repeat("00", 32) },
			roster.ETLS, []string{"is not the pinned one"}},
		{"LDAPS against the StartTLS port says to use StartTLS", labenv.OpenLDAP, roster.LDAPS,
			func(s *roster.Source) { s.Address = strings.Replace(s.Address, "1636", "1389", 1) },
			roster.ETLS, []string{"does not speak TLS on this port", "StartTLS"}},
		{"StartTLS against the LDAPS port says to use LDAPS", labenv.OpenLDAP, roster.StartTLS,
			func(s *roster.Source) { s.Address = strings.Replace(s.Address, "1389", "1636", 1) },
			roster.ETLS, []string{"hung up on StartTLS", "use LDAPS there"}},
		{"StartTLS against AD's LDAPS port says the same", labenv.AD, roster.StartTLS,
			func(s *roster.Source) { s.Address = strings.Replace(s.Address, "389", "636", 1) },
			roster.ETLS, []string{"hung up on StartTLS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := env.Source(t, tt.dir, tt.mode)
			tt.change(src)
			err := dialErr(t, src)
			if roster.ErrorCode(err) != tt.wantCode {
				t.Fatalf("Dial() = %v (code %q), want code %q", err, roster.ErrorCode(err), tt.wantCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestLabPinnedFingerprintReplacesTheChain(t *testing.T) {
	env := labenv.Require(t)
	src := env.Source(t, labenv.AD, roster.LDAPS)
	c := connect(t, src)
	sum := sha256.Sum256(c.TLS().PeerCertificates[0].Raw)
	if got := pfx.Fingerprint(c.TLS().PeerCertificates[0]); strings.ReplaceAll(got, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Fatalf("Fingerprint() = %s, want the SHA-256 of the certificate", got)
	}

	pinned := env.Source(t, labenv.AD, roster.LDAPS)
	pinned.Trust.CAPEM = nil // no CA: only the pin makes this work
	pinned.Trust.PinSHA256 = pfx.Fingerprint(c.TLS().PeerCertificates[0])
	pc := connect(t, pinned)
	if pc.Verified() != "pin" {
		t.Fatalf("Verified() = %q, want pin", pc.Verified())
	}
}

func TestLabSkipVerifyConnectsButIsFlagged(t *testing.T) {
	env := labenv.Require(t)
	src := env.Source(t, labenv.OpenLDAP, roster.StartTLS)
	src.Trust = roster.Trust{SkipVerify: true}
	c := connect(t, src)
	if c.Verified() != "none" {
		t.Fatalf("Verified() = %q, want none", c.Verified())
	}
	if len(src.Warnings()) == 0 {
		t.Fatal("a source with verification off carries no warning")
	}
}

func TestLabPlainBindIsRefusedByBothServers(t *testing.T) {
	env := labenv.Require(t)
	for _, d := range []labenv.Directory{labenv.AD, labenv.OpenLDAP} {
		t.Run(string(d), func(t *testing.T) {
			src := env.Source(t, d, roster.Plain)
			src.AllowInsecure = true
			err := bindErr(t, src)
			if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(err.Error(), "refuses a password sign-in without TLS") {
				t.Fatalf("plain Bind() = %v, want the server's refusal explained", err)
			}
		})
	}
}

// These two need no directory: a closed port and a silent one, both on
// loopback.
func TestDialRefusedAndSilentServers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	silent := l.Addr().String()
	defer l.Close()
	go func() { // accept and say nothing
		for i := 0; i < 10; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l2.Addr().String()
	l2.Close()

	tests := []struct {
		name string
		addr string
		mode roster.TLSMode
		want string
	}{
		{"a closed port says connection refused", closed, roster.LDAPS, "connection refused"},
		{"a silent LDAPS server times out within the connect timeout", silent, roster.LDAPS, "within 300ms"},
		{"a silent StartTLS server times out within the connect timeout", silent, roster.StartTLS, "within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &roster.Source{Type: roster.OpenLDAP, Address: tt.addr, TLSMode: tt.mode,
				ConnectTimeout: 300 * time.Millisecond}
			start := time.Now()
			err := dialErr(t, src)
			if roster.ErrorCode(err) != roster.EUNAVAILABLE || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Dial() = %v (code %q), want EUNAVAILABLE saying %q", err, roster.ErrorCode(err), tt.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("Dial() took %s; the connect timeout does not bound it", d)
			}
		})
	}
}

// The request timeout measures the directory's silence, not the time the
// consumer spends on entries: a slow consumer must not fail the search.
func TestLabSlowConsumerIsNotBlamedOnTheDirectory(t *testing.T) {
	env := labenv.Require(t)
	src := env.Source(t, labenv.AD, roster.LDAPS)
	// The directory has 2 s to answer (more on a slow machine); the
	// consumer takes longer than that over each entry.
	src.RequestTimeout = labenv.Budget(2 * time.Second)
	c := connect(t, src)
	st, err := c.Search(context.Background(), ldap.SearchRequest{
		BaseDN: src.SearchBases()[0], Scope: ldap.ScopeSubtree, Filter: "(sAMAccountName=test-*)",
	}, func(*ldap.Entry) error {
		time.Sleep(src.RequestTimeout + 500*time.Millisecond)
		return nil
	})
	if err != nil || st.Entries != 2 {
		t.Fatalf("Search() with a slow consumer = %d entries, %v; want 2 and no error", st.Entries, err)
	}
}
