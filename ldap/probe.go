package ldap

import (
	"context"
	"crypto/x509"

	"github.com/rosterhq/roster"
)

// ProbeResult is what a directory's TLS endpoint presented.
type ProbeResult struct {
	Chain      []*x509.Certificate // as the server sent it, its own certificate first
	TLSVersion uint16
	ServerName string // the name the certificate was checked against
	// Verified is "chain" or "pin" when the certificate is trusted as the
	// source's Trust says; "" when it is not, and Problem says why.
	Verified string
	Problem  error
}

// Probe connects over LDAPS or StartTLS, completes the TLS handshake
// whether or not the certificate is trusted, and reports the chain and
// the verdict. It does not bind.
//
// Errors: as Dial, except that a certificate that fails verification is
// not an error but the result's Problem.
func (dl Dialer) Probe(ctx context.Context, src *roster.Source) (*ProbeResult, error) {
	if src.Mode() == roster.Plain {
		return nil, roster.Errorf(roster.EINVALID, "a probe needs TLS: use an ldaps:// address, or StartTLS")
	}
	c, err := dl.dial(ctx, src, true)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	peer, verr := c.verify.failure()
	r := &ProbeResult{Chain: peer, ServerName: c.verify.serverName}
	if c.tls != nil {
		r.TLSVersion = c.tls.Version
	}
	if verr != nil {
		r.Problem = &roster.Error{Code: roster.ETLS, Op: "ldap.Probe", Err: verr,
			Message: certProblem(c.addr, c.verify.serverName, verr, peer, c.now())}
	} else {
		r.Verified = c.verify.how()
	}
	return r, nil
}
