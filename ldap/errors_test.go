package ldap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

func TestBindErrorsSpeakToAdmins(t *testing.T) {
	ad := &Conn{addr: "20.54.1.9:636", src: &roster.Source{Type: roster.EntraDS, Login: "svc-print@corp.test"}}
	ol := &Conn{addr: "10.0.0.5:636", src: &roster.Source{Type: roster.OpenLDAP, Login: "uid=svc,dc=x"}}
	adErr := func(data string) error {
		return goldap.NewError(goldap.LDAPResultInvalidCredentials,
			errors.New("80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data "+data+", v4563"))
	}
	tests := []struct {
		name     string
		c        *Conn
		err      error
		wantCode string
		want     string
	}{
		{"52e is a wrong password, and roster does not retry", ad, adErr("52e"), roster.EUNAUTHORIZED,
			"the directory rejected the login svc-print@corp.test: wrong password (AD gives the same answer for an unknown login"},
		{"52e says roster does not retry", ad, adErr("52e"), roster.EUNAUTHORIZED, "roster does not retry, because Entra DS locks an account after 5 wrong passwords in 2 minutes (AD code 52e)"},
		{"525 is an unknown account", ad, adErr("525"), roster.EUNAUTHORIZED, "no such account"},
		{"533 is a disabled account", ad, adErr("533"), roster.EUNAUTHORIZED, "the account is disabled"},
		{"775 is a locked account", ad, adErr("775"), roster.EUNAUTHORIZED, "locked out"},
		{"773 must change the password", ad, adErr("773"), roster.EUNAUTHORIZED, "must be changed"},
		{"an unknown AD code is still shown", ad, adErr("9999"), roster.EUNAUTHORIZED, "(AD code 9999)"},
		{"OpenLDAP's 49 points at the DN form", ol, goldap.NewError(49, errors.New("")), roster.EUNAUTHORIZED, "full DN"},
		{"code 8 asks for TLS", ad, goldap.NewError(8, errors.New("00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity checking")), roster.EINVALID, "use LDAPS or StartTLS"},
		{"code 13 asks for TLS", ol, goldap.NewError(13, errors.New("confidentiality required")), roster.EINVALID, "without TLS (LDAP code 13)"},
		{"a dropped connection is unavailable", ad, goldap.NewError(goldap.ErrorNetwork, errors.New("ldap: connection closed")), roster.EUNAVAILABLE, "20.54.1.9:636 closed the connection during the sign-in as svc-print@corp.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.bindError(tt.err)
			if roster.ErrorCode(err) != tt.wantCode || !strings.Contains(roster.ErrorMessage(err), tt.want) {
				t.Fatalf("bindError() = %q (code %q), want code %q containing %q", roster.ErrorMessage(err), roster.ErrorCode(err), tt.wantCode, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Error("the LDAP error is not kept as the cause")
			}
		})
	}
}

func TestSearchErrorsSpeakToAdmins(t *testing.T) {
	c := &Conn{addr: "h:636", src: &roster.Source{Login: "svc"}}
	tests := []struct {
		code     uint16
		wantCode string
		want     string
	}{
		{goldap.LDAPResultNoSuchObject, roster.ENOTFOUND, "the base DN OU=X does not exist"},
		{goldap.LDAPResultInsufficientAccessRights, roster.EFORBIDDEN, "may not search OU=X"},
		{goldap.LDAPResultSizeLimitExceeded, roster.EUNAVAILABLE, "size limit"},
		{goldap.LDAPResultAdminLimitExceeded, roster.EUNAVAILABLE, "LDAP code 11"},
		{goldap.LDAPResultBusy, roster.EUNAVAILABLE, "LDAP code 51: Busy); try again later"},
		{goldap.LDAPResultReferral, roster.ENOTFOUND, "not held by this directory"},
		{goldap.LDAPResultUnwillingToPerform, roster.EINTERNAL, "LDAP code 53 (Unwilling To Perform)"},
		{goldap.LDAPResultSyncRefreshRequired, roster.EINTERNAL, "refused the first page of the search of OU=X: LDAP code 4096"},
	}
	for _, tt := range tests {
		t.Run(goldap.LDAPResultCodeMap[tt.code], func(t *testing.T) {
			err := c.readError("OU=X", pageWhat("OU=X", 1, 0), goldap.NewError(tt.code, errors.New("x")))
			if roster.ErrorCode(err) != tt.wantCode || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("searchError() = %v (code %q), want %q containing %q", err, roster.ErrorCode(err), tt.wantCode, tt.want)
			}
		})
	}
}

func TestRangedValues(t *testing.T) {
	entry := func(name string, vals ...string) *Entry {
		return newEntry(goldap.NewEntry("cn=g", map[string][]string{"cn": {"g"}, name: vals}))
	}
	tests := []struct {
		name      string
		e         *Entry
		wantN     int
		wantHigh  int
		wantLast  bool
		wantFound bool
	}{
		{"a middle window gives its high end", entry("member;range=0-1499", "a", "b"), 2, 1499, false, true},
		{"a window ending in * is the last", entry("member;range=1500-*", "c"), 1, 0, true, true},
		{"the range option is matched without case", entry("Member;Range=0-1", "a", "b"), 2, 1, false, true},
		{"a plain attribute means the server sent everything", entry("member", "a", "b", "c"), 3, 0, true, true},
		{"a group without members", entry("description", "x"), 0, 0, true, false},
		{"another attribute with a range is not member", entry("memberOf;range=0-1", "a"), 0, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, high, last, found := rangedValues(tt.e, "member")
			if len(vals) != tt.wantN || high != tt.wantHigh || last != tt.wantLast || found != tt.wantFound {
				t.Fatalf("rangedValues() = %d values, high %d, last %v, found %v; want %d, %d, %v, %v",
					len(vals), high, last, found, tt.wantN, tt.wantHigh, tt.wantLast, tt.wantFound)
			}
		})
	}
}

func TestGivenCAsReplaceTheSystemRoots(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "site CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(der)
	v, err := newVerifier(&roster.Source{Address: "h", TLSMode: roster.LDAPS,
		Trust: roster.Trust{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}})
	if err != nil {
		t.Fatal(err)
	}
	want := x509.NewCertPool()
	want.AddCert(ca)
	if !v.roots.Equal(want) {
		t.Fatal("the trusted roots are not exactly the given CA: public CAs would still be trusted")
	}
	if v, _ := newVerifier(&roster.Source{Address: "h", TLSMode: roster.LDAPS}); v.roots != nil {
		t.Fatal("without a CA file, the roots should be the system's (nil)")
	}
}

// A connection torn down under a request is named as a reset, whether the
// client met it reading (ECONNRESET) or writing (EPIPE), as when a reset
// lands while the sign-in is still being sent, on Windows too.
func TestAResetIsNamedWhetherReadOrWritten(t *testing.T) {
	c := &Conn{addr: "127.0.0.1:636", src: &roster.Source{Login: "svc-print"}}
	for _, errno := range []syscall.Errno{syscall.ECONNRESET, syscall.EPIPE, 10053, 10054} { // and Windows' WSAECONNABORTED, WSAECONNRESET
		op := &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", errno)}
		err := c.signInLost(op)
		if msg := roster.ErrorMessage(err); !strings.Contains(msg, "was reset during the sign-in as svc-print") {
			t.Errorf("%v: %q", errno, msg)
		}
	}
}
