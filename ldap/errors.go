package ldap

// Every message an admin can see from this package is written here, so
// they can be read and reviewed together. Messages name the account and
// the server, never the password. Flags are named as roster's command
// line spells them; the console shows the same fields under those names.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// adBindReasons maps the "data XXX" sub-code AD puts in a result code 49
// diagnostic to a sentence and the fix. Samba and Entra DS use the same.
var adBindReasons = map[string]string{
	"525": "no such account; check the login (for Entra DS, a user of the managed domain, written as user@domain)",
	"52e": "wrong password (AD gives the same answer for an unknown login, so check the login too; on Entra DS the full UPN is the most reliable); roster does not retry, because Entra DS locks an account after 5 wrong passwords in 2 minutes",
	"530": "the account may not sign in at this time of day; lift the logon-hours restriction",
	"531": "the account may not sign in from this computer; lift the workstation restriction",
	"532": "the password has expired; set a new one in the directory",
	"533": "the account is disabled; enable it in the directory or use another ordinary account",
	"568": "the account is in too many groups to sign in",
	"701": "the account has expired; extend its expiry date in the directory",
	"773": "the password must be changed before the account can sign in; set a new one in the directory",
	"775": "the account is locked out after too many wrong passwords; wait for the lockout to end or have it unlocked",
}

var adDataCode = regexp.MustCompile(`data ([0-9a-fA-F]{3,8})`)

// ADBindReason returns the reason Active Directory gave for refusing a
// bind, in words (wrong password, locked out, expired, must change; ""
// for a code without one) and its code, read from the directory's answer
// that err carries. ok is false when err holds no such answer (OpenLDAP,
// or no answer at all).
func ADBindReason(err error) (code, reason string, ok bool) {
	var le *goldap.Error
	if !errors.As(err, &le) || le.ResultCode != goldap.LDAPResultInvalidCredentials {
		return "", "", false
	}
	m := adDataCode.FindStringSubmatch(le.Error())
	if m == nil {
		return "", "", false
	}
	code = strings.ToLower(m[1])
	return code, adBindReasons[code], true
}

// ADRefusal says that AD refused login, with its reason when known: the
// words of ADBindReason.
func ADRefusal(login, code, reason string) string {
	if reason == "" {
		return fmt.Sprintf("the directory rejected the login %s (AD code %s)", login, code)
	}
	return fmt.Sprintf("the directory rejected the login %s: %s (AD code %s)", login, reason, code)
}

func (c *Conn) bindError(err error) error {
	login := c.src.Login
	var le *goldap.Error
	if !errors.As(err, &le) || clientSide(le) {
		return c.signInLost(err)
	}
	e := &roster.Error{Op: "ldap.Bind", Err: err}
	switch le.ResultCode {
	case goldap.LDAPResultInvalidCredentials:
		e.Code = roster.EUNAUTHORIZED
		if code, reason, ok := ADBindReason(err); ok {
			e.Message = ADRefusal(login, code, reason)
			return e
		}
		e.Message = fmt.Sprintf("the directory rejected the login %s: wrong DN or password (LDAP code 49); roster does not retry", login)
		if !c.src.Type.IsAD() {
			e.Message += "; OpenLDAP signs in with the account's full DN, such as uid=svc-print,ou=system,dc=example,dc=test"
		}
	case goldap.LDAPResultStrongAuthRequired, goldap.LDAPResultConfidentialityRequired:
		e.Code = roster.EINVALID
		e.Message = fmt.Sprintf("the directory at %s refuses a password sign-in without TLS (LDAP code %d); use LDAPS or StartTLS", c.addr, le.ResultCode)
	case goldap.LDAPResultInappropriateAuthentication, goldap.LDAPResultUnwillingToPerform:
		e.Code = roster.EUNAUTHORIZED
		e.Message = fmt.Sprintf("the directory at %s will not let %s sign in with a password (LDAP code %d: %s)", c.addr, login, le.ResultCode, goldap.LDAPResultCodeMap[le.ResultCode])
	default:
		return c.resultError("sign-in as "+login, le)
	}
	return e
}

// readError explains why a read of base did not finish; what names the
// request (see pageWhat, getWhat, contentSyncWhat). The directory's
// result codes get searchError's advice; anything else is a lost read.
func (c *Conn) readError(base, what string, err error) error {
	var le *goldap.Error
	if errors.As(err, &le) && !clientSide(le) {
		return c.searchError(base, what, le)
	}
	return c.netError(what, err)
}

// clientSide reports whether go-ldap made the error itself (codes 200 to
// 206: the network, a filter, an unexpected message) rather than passing
// on the directory's result code, which may be any number (4096, say).
func clientSide(le *goldap.Error) bool {
	return le.ResultCode >= goldap.ErrorNetwork && le.ResultCode <= goldap.ErrorEmptyPassword
}

// What a read was doing, for its error: "page 3 of the search of
// OU=Staff,DC=corp,DC=test (after 2000 entries)".
func pageWhat(base string, page, entries int) string {
	if page == 1 {
		return "first page of the search of " + showDN(base)
	}
	return fmt.Sprintf("page %d of the search of %s (after %d entries)", page, showDN(base), entries)
}

func getWhat(dn string) string { return "read of " + showDN(dn) }

func contentSyncWhat(base string) string { return "content sync (deletions) of " + showDN(base) }

func showDN(dn string) string {
	if dn == "" {
		return "the root DSE"
	}
	return dn
}

// errIncomplete is a read that ended without the directory's word that it
// was complete: no SearchResultDone, or one without the control asked for.
var errIncomplete = errors.New("the answer ended before the directory said it was complete")

// searchError explains a result code the directory gave a search of base.
func (c *Conn) searchError(base, what string, le *goldap.Error) error {
	e := &roster.Error{Op: "ldap.Search", Err: le}
	switch le.ResultCode {
	case goldap.LDAPResultNoSuchObject:
		e.Code = roster.ENOTFOUND
		e.Message = fmt.Sprintf("the base DN %s does not exist in the directory; check the domain or the base DN", base)
	case goldap.LDAPResultSizeLimitExceeded:
		e.Code = roster.EUNAVAILABLE
		e.Message = fmt.Sprintf("the directory stopped the search of %s at its size limit (LDAP code 4) even though roster pages; raise the account's size limit or narrow the base DN", base)
	case goldap.LDAPResultAdminLimitExceeded:
		e.Code = roster.EUNAVAILABLE
		e.Message = fmt.Sprintf("the directory refused the search of %s: administrative limit exceeded (LDAP code 11), for example a page size above its maximum", base)
	case goldap.LDAPResultInsufficientAccessRights:
		e.Code = roster.EFORBIDDEN
		e.Message = fmt.Sprintf("the account %s may not search %s (LDAP code 50); give it read access", c.src.Login, base)
	case goldap.LDAPResultOperationsError:
		e.Code = roster.EUNAUTHORIZED
		e.Message = fmt.Sprintf("the directory refused the search of %s (LDAP code 1); the bind probably did not happen or was lost", base)
	case goldap.LDAPResultReferral:
		e.Code = roster.ENOTFOUND
		e.Message = fmt.Sprintf("the base DN %s is not held by this directory, which refers elsewhere (LDAP code 10); check the domain and base DN against the directory's naming context", base)
	case goldap.LDAPResultBusy, goldap.LDAPResultUnavailable, goldap.LDAPResultTimeLimitExceeded:
		e.Code = roster.EUNAVAILABLE
		e.Message = fmt.Sprintf("the directory at %s could not finish the %s (LDAP code %d: %s); try again later", c.addr, what, le.ResultCode, goldap.LDAPResultCodeMap[le.ResultCode])
	default:
		return c.resultError(what, le)
	}
	return e
}

func (c *Conn) resultError(what string, le *goldap.Error) error {
	if clientSide(le) {
		return c.netError(what, le)
	}
	return &roster.Error{Code: roster.EINTERNAL, Op: "ldap", Err: le,
		Message: fmt.Sprintf("the directory at %s refused the %s: LDAP code %d (%s)", c.addr, what, le.ResultCode, goldap.LDAPResultCodeMap[le.ResultCode])}
}

// netError explains a request (what) that got no complete answer: the
// connection timed out, was closed or reset, its TLS session failed, or
// the answer ended early. go-ldap keeps a connection's failure only as
// text; the typed cause comes from the wire under it when it saw one.
func (c *Conn) netError(what string, err error) error {
	return c.lostError(what, err, c.timeout, "the request timeout: -timeout, or the source's timeout setting")
}

// signInLost explains a sign-in that got no answer: it has the connect
// timeout, not the request timeout.
func (c *Conn) signInLost(err error) error {
	return c.lostError("sign-in as "+c.src.Login, err, c.connectTimeout, "the connect timeout: -connect-timeout, or the source's connect_timeout setting")
}

// lostError is netError for a request that had limit to answer, which
// limitName names.
func (c *Conn) lostError(what string, err error, limit time.Duration, limitName string) error {
	e := &roster.Error{Code: roster.EUNAVAILABLE, Op: "ldap", Err: err}
	cause := err
	if c.wire != nil && !errors.Is(err, errSilent) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		if w := c.wire.cause(); w != nil {
			cause = w
		}
	}
	text := cause.Error()
	if cause != err {
		text += " " + err.Error()
	}
	switch {
	case errors.Is(err, context.Canceled):
		e.Message = fmt.Sprintf("the %s at %s was cancelled", what, c.addr)
	case errors.Is(err, errSilent) || errors.Is(err, context.DeadlineExceeded) || isTimeout(cause) ||
		strings.Contains(text, "connection timed out") || strings.Contains(text, "i/o timeout"):
		e.Message = fmt.Sprintf("the directory at %s did not answer the %s within %s (%s)", c.addr, what, limit, limitName)
	case isTLSFailure(cause) || strings.Contains(text, "tls: "):
		e.Code = roster.ETLS
		e.Message = fmt.Sprintf("the TLS session with %s failed during the %s: %s; the data was changed or cut in transit (a faulty link, or a device between that inspects or rewrites traffic)", c.addr, what, tlsReason(text))
	case isReset(cause) || isReset(err):
		e.Message = fmt.Sprintf("the connection to %s was reset during the %s, by the directory or by a firewall or load balancer between (check their idle timeouts)", c.addr, what)
	case errors.Is(cause, io.EOF) || errors.Is(cause, io.ErrUnexpectedEOF) || errors.Is(cause, net.ErrClosed) ||
		strings.Contains(text, "EOF") || strings.Contains(text, "closed") || (errors.Is(err, errIncomplete) && c.conn.IsClosing()):
		e.Message = fmt.Sprintf("the directory at %s closed the connection during the %s, before it said the answer was complete; try again, and if it repeats, look at the directory's log and at the idle timeouts of firewalls or load balancers between", c.addr, what)
	case errors.Is(err, errIncomplete):
		e.Message = fmt.Sprintf("the directory at %s ended the %s without the answer that proves it complete (a SearchResultDone with the control roster asked for); roster does not take a partial answer for a whole one: try again, and if it repeats, check that the directory supports paged results (LDAP control 1.2.840.113556.1.4.319) and that nothing between rewrites LDAP traffic", c.addr, what)
	default:
		e.Message = fmt.Sprintf("the connection to %s failed during the %s: %v", c.addr, what, rootCause(cause))
	}
	return e
}

// isReset says whether err is the other side (or a device between)
// tearing the connection down: ECONNRESET met reading, EPIPE met writing
// into a connection already torn down, and their Windows numbers, which
// package syscall does not map to them (WSAECONNRESET 10054,
// WSAECONNABORTED 10053); or, for errors that kept only their text, the
// words of each.
func isReset(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ECONNRESET, syscall.EPIPE, 10053, 10054:
			return true
		}
	}
	text := err.Error()
	return strings.Contains(text, "connection reset") || strings.Contains(text, "broken pipe") ||
		strings.Contains(text, "forcibly closed")
}

// isTLSFailure recognises TLS's own errors: an alert, a record that is
// not TLS, or a record that fails its integrity check.
func isTLSFailure(err error) bool {
	var alert tls.AlertError
	var header tls.RecordHeaderError
	return errors.As(err, &alert) || errors.As(err, &header)
}

// tlsReason picks TLS's own words ("tls: bad record MAC") out of an error text.
func tlsReason(text string) string {
	i := strings.Index(text, "tls: ")
	if i < 0 {
		return text
	}
	r := text[i:]
	if j := strings.IndexAny(r, ";\n"); j > 0 {
		r = r[:j]
	}
	return r
}

func (c *Conn) dialError(err error) error {
	e := &roster.Error{Code: roster.EUNAVAILABLE, Op: "ldap.Dial", Err: err}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		e.Message = fmt.Sprintf("the host name %s cannot be resolved; check the address, or use the directory's IP address", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Message = fmt.Sprintf("nothing accepts connections at %s (connection refused); check the address and port, and that %s is enabled on the directory (Entra DS: Secure LDAP, then Enable)", c.addr, c.src.Mode())
	case (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) && c.raw != nil:
		// The TCP connection was made: no firewall is in the way.
		e.Message = fmt.Sprintf("the directory at %s accepted the connection but did not finish setting up %s within %s (the connect timeout: -connect-timeout, or the source's connect_timeout setting); it may be overloaded, or something between stalls the traffic", c.addr, c.src.Mode(), c.connectTimeout)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Message = fmt.Sprintf("no answer from %s within %s; check the address, and that the firewall (for Entra DS, the network security group rule for port %s) lets this machine in", c.addr, c.connectTimeout, c.addr[strings.LastIndex(c.addr, ":")+1:])
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		e.Message = fmt.Sprintf("there is no network route to %s; check the address and this machine's network", c.addr)
	default:
		e.Message = fmt.Sprintf("cannot connect to %s: %v", c.addr, err)
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// tlsError explains a failed TLS handshake. The verifier keeps the typed
// cause and the certificates the server sent, so the message can name the
// certificate and say exactly what to trust or pin.
func (c *Conn) tlsError(err error) error {
	peer, verr := c.verify.failure()
	e := &roster.Error{Code: roster.ETLS, Op: "ldap.Dial", Err: err}
	if verr == nil {
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			return c.dialError(err)
		}
		e.Message = fmt.Sprintf("the TLS handshake with %s failed: %v", c.addr, rootCause(err))
		// A plain LDAP port either answers the ClientHello with non-TLS
		// bytes or hangs up on it.
		if strings.Contains(err.Error(), "first record does not look like a TLS handshake") ||
			errors.Is(err, io.EOF) || isReset(err) {
			e.Message = fmt.Sprintf("the server at %s does not speak TLS on this port (it hung up on the TLS handshake); it is probably plain LDAP, as on port 389: use StartTLS there, or LDAPS on port 636", c.addr)
		}
		return e
	}
	e.Message = certProblem(c.addr, c.verify.serverName, verr, peer, c.now())
	return e
}

// startTLSError explains a failed StartTLS. go-ldap reports read errors
// on this path as text only, so a timeout is recognised by the connect
// deadline having passed, and a hang-up by the words it leaves.
func (c *Conn) startTLSError(ctx context.Context, err error) error {
	if _, verr := c.verify.failure(); verr != nil {
		return c.tlsError(err)
	}
	if ctx.Err() != nil {
		return c.dialError(ctx.Err())
	}
	if strings.Contains(err.Error(), "i/o timeout") {
		// The connect deadline on the socket can fire a moment before
		// ctx notices its own, identical deadline.
		return c.dialError(context.DeadlineExceeded)
	}
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode != goldap.ErrorNetwork {
		return &roster.Error{Code: roster.ETLS, Op: "ldap.StartTLS", Err: err,
			Message: fmt.Sprintf("the directory at %s refused StartTLS (LDAP code %d: %s); it may have no certificate configured, or use LDAPS on port 636", c.addr, le.ResultCode, goldap.LDAPResultCodeMap[le.ResultCode])}
	}
	if text := err.Error(); c.wire != nil && c.wire.spokeLDAP() && (strings.Contains(text, "EOF") ||
		strings.Contains(text, "connection reset") || strings.Contains(text, "response channel closed") || strings.Contains(text, "closed")) {
		// The directory answered in LDAP, so it does StartTLS: the
		// connection was lost in the TLS handshake that follows.
		return &roster.Error{Code: roster.ETLS, Op: "ldap.StartTLS", Err: err,
			Message: fmt.Sprintf("the connection to %s was lost during StartTLS, after the directory answered: %v; try again, and check what lies between (a firewall or load balancer)", c.addr, rootCause(err))}
	}
	if text := err.Error(); strings.Contains(text, "EOF") || strings.Contains(text, "connection reset") ||
		strings.Contains(text, "response channel closed") {
		return &roster.Error{Code: roster.ETLS, Op: "ldap.StartTLS", Err: err,
			Message: fmt.Sprintf("the server at %s hung up on StartTLS; it probably expects TLS from the first byte, as LDAPS on port 636 does: use LDAPS there", c.addr)}
	}
	return c.tlsError(err)
}

// certProblem turns a certificate verification error into what failed,
// on which certificate, and the fix.
func certProblem(addr, serverName string, err error, peer []*x509.Certificate, now time.Time) string {
	var leaf *x509.Certificate
	if len(peer) > 0 {
		leaf = peer[0]
	}
	describe := func() string {
		if leaf == nil {
			return ""
		}
		return fmt.Sprintf(" (subject %s, issued by %s, SHA-256 %s)", leaf.Subject, leaf.Issuer, pfx.Fingerprint(leaf))
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		notStd   x509.SystemRootsError
	)
	switch {
	case errors.Is(err, errPinMismatch):
		return fmt.Sprintf("the certificate of %s%s is not the pinned one; if the directory's certificate was renewed on purpose, pin the new fingerprint, otherwise something is intercepting the connection", addr, describe())
	case errors.As(err, &hostname):
		return fmt.Sprintf("the certificate of %s is for %s, not for %s%s; set the TLS server name (-server-name) to a name it carries: for a wildcard *.domain certificate, ldaps.domain, which is also the default when the address is an IP and the domain is set",
			addr, strings.Join(certNames(hostname.Certificate), ", "), serverName, describe())
	case errors.As(err, &unknown):
		return fmt.Sprintf("the certificate of %s%s is not trusted: it is self-signed or issued by an unknown CA; trust it by giving the CA certificate or the exported .cer file (-ca), or pin its SHA-256 fingerprint (-pin-sha256)", addr, describe())
	case errors.As(err, &invalid):
		switch invalid.Reason {
		case x509.Expired:
			if leaf != nil && now.After(leaf.NotAfter) {
				return fmt.Sprintf("the certificate of %s expired on %s%s; upload a new certificate to the directory (Entra DS: Secure LDAP, then Change certificate)", addr, leaf.NotAfter.UTC().Format("2006-01-02"), describe())
			}
			return fmt.Sprintf("a certificate in the chain of %s is expired or not yet valid%s; check the directory's certificate and this machine's clock", addr, describe())
		case x509.IncompatibleUsage:
			return fmt.Sprintf("the certificate of %s%s is not valid for TLS server authentication; issue one with the Server Authentication usage", addr, describe())
		}
		return fmt.Sprintf("the certificate of %s%s is invalid: %v", addr, describe(), invalid)
	case errors.As(err, &notStd):
		return fmt.Sprintf("this machine has no usable system certificate roots to check %s%s; give the CA certificate with -ca", addr, describe())
	}
	return fmt.Sprintf("the certificate of %s%s failed verification: %v", addr, describe(), err)
}

func certNames(c *x509.Certificate) []string {
	if c == nil {
		return nil
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames
	}
	return []string{c.Subject.CommonName}
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// Messages for the less common failures of searches and ranges.

func errTooManyPages(base string, n int) error {
	return &roster.Error{Code: roster.EUNAVAILABLE, Op: "ldap.Search",
		Message: fmt.Sprintf("the directory returned more than %d pages for %s; the search was stopped", n, base)}
}

func errBadFilter(extra string, err error) error {
	reason := err.Error()
	if le := (*goldap.Error)(nil); errors.As(err, &le) && le.Err != nil {
		reason = strings.TrimPrefix(le.Err.Error(), "ldap: ")
	}
	return roster.Errorf(roster.EINVALID, "the user filter %q is not a valid LDAP filter: %s; write it as in (department=Sales) or (&(department=Sales)(title=*))", extra, reason)
}

func errNoEntry(dn string) error {
	return &roster.Error{Code: roster.ENOTFOUND, Op: "ldap.Values", Message: fmt.Sprintf("the entry %s does not exist", dn)}
}

func errRangeBackwards(dn, attr string, low, high int) error {
	return &roster.Error{Code: roster.EINTERNAL, Op: "ldap.Values",
		Message: fmt.Sprintf("the directory sent a range of %s for %s that goes backwards (%d after %d)", attr, dn, high, low)}
}

func errRangeMissing(dn, attr string, low int) error {
	return &roster.Error{Code: roster.EUNAVAILABLE, Op: "ldap.Values",
		Message: fmt.Sprintf("the directory announced more values of %s for %s than it sent: the read from value %d on returned none; the member list would be incomplete, so the run stops (try again; if it persists, check the account's read rights on %s)", attr, dn, low, attr)}
}

func errTooManyRangeSteps(dn, attr string, n int) error {
	return &roster.Error{Code: roster.EINTERNAL, Op: "ldap.Values",
		Message: fmt.Sprintf("reading %s of %s took more than %d range steps; stopped", attr, dn, n)}
}

// writeError turns a refused modify into a sentence with the fix.
func (c *Conn) writeError(dn, attr string, err error) error {
	var le *goldap.Error
	if !errors.As(err, &le) {
		return c.netError("write of "+attr, err)
	}
	e := &roster.Error{Op: "ldap.Write", Err: err}
	switch le.ResultCode {
	case goldap.LDAPResultInsufficientAccessRights:
		e.Code = roster.EFORBIDDEN
		e.Message = fmt.Sprintf("the account %s may not write %s on %s; grant it write access to that attribute on the users' container, or turn write-back off", c.src.Login, attr, dn)
		if c.src.Type == roster.EntraDS {
			e.Message = fmt.Sprintf("Entra Domain Services refused to write %s on %s: users synced from Microsoft Entra ID are read-only there. "+
				"Set the attribute in Entra ID (or in the on-premises AD that feeds it), and map it as the print code or card attribute; "+
				"or turn write-back off and let roster keep the codes itself", attr, dn)
		}
	case goldap.LDAPResultUnwillingToPerform:
		e.Code = roster.EFORBIDDEN
		e.Message = fmt.Sprintf("the directory is unwilling to write %s on %s (a read-only replica, or a read-only object): %s; write-back needs a writable server", attr, dn, le.Err)
		if c.src.Type == roster.EntraDS {
			e.Message = fmt.Sprintf("Entra Domain Services will not write %s on %s: users synced from Microsoft Entra ID are read-only there. "+
				"Set the attribute in Entra ID instead, or turn write-back off and let roster keep the codes itself", attr, dn)
		}
	case goldap.LDAPResultUndefinedAttributeType, goldap.LDAPResultObjectClassViolation, goldap.LDAPResultNoSuchAttribute:
		e.Code = roster.EINVALID
		e.Message = fmt.Sprintf("the entry %s cannot hold the attribute %s (the directory's schema says: %s); choose another attribute for write-back", dn, attr, le.Err)
	case goldap.LDAPResultConstraintViolation, goldap.LDAPResultInvalidAttributeSyntax:
		e.Code = roster.EINVALID
		e.Message = fmt.Sprintf("the directory refused the value for %s on %s: %s", attr, dn, le.Err)
	case goldap.LDAPResultNoSuchObject:
		return errEntryGone(dn)
	default: // a dropped connection, or a code with no advice of its own
		return c.resultError("write of "+attr+" on "+dn, le)
	}
	return e
}

// errEntryGone says a user's entry was not found for a write.
func errEntryGone(dn string) error {
	return roster.Errorf(roster.ENOTFOUND, "the entry %s is not in the directory (any more); run a sync", dn)
}
