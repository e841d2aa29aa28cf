package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
)

// oidStartTLS names the StartTLS extended operation (RFC 4511, 4.14).
const oidStartTLS = "1.3.6.1.4.1.1466.20037"

// startTLS asks the directory on conn for StartTLS, as the connection's
// first message, and on success runs the TLS handshake over conn. Its
// errors have go-ldap's shapes, which startTLSError explains: a refusal
// is a *goldap.Error with the directory's result code; a connection that
// ends is the read's error, named as go-ldap names it.
func startTLS(ctx context.Context, conn net.Conn, config *tls.Config) (*tls.Conn, error) {
	req := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationExtendedRequest, nil, "Start TLS")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, oidStartTLS, "TLS Extended Command"))
	req.AppendChild(op)
	if _, err := conn.Write(req.Bytes()); err != nil {
		return nil, fmt.Errorf("unable to send StartTLS: %w", err)
	}
	resp, err := ber.ReadPacket(conn)
	if err != nil {
		return nil, fmt.Errorf("unable to read the StartTLS answer: %w", err)
	}
	if err := startTLSResult(resp); err != nil {
		return nil, err
	}
	tc := tls.Client(conn, config)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// startTLSResult returns nil when resp is a successful ExtendedResponse
// to message 1, and the directory's refusal otherwise.
func startTLSResult(resp *ber.Packet) error {
	if len(resp.Children) < 2 || len(resp.Children[1].Children) < 1 {
		return &goldap.Error{ResultCode: goldap.ErrorUnexpectedResponse, Err: errors.New("the answer to StartTLS is not an LDAP result")}
	}
	if id, _ := resp.Children[0].Value.(int64); id != 1 {
		// A Notice of Disconnection (message 0) or another message.
		code, _ := resp.Children[1].Children[0].Value.(int64)
		if code == 0 {
			code = int64(goldap.ErrorUnexpectedResponse)
		}
		return &goldap.Error{ResultCode: uint16(code), Err: fmt.Errorf("the directory answered StartTLS with message %d", id)}
	}
	op := resp.Children[1]
	if op.ClassType != ber.ClassApplication || op.Tag != goldap.ApplicationExtendedResponse {
		return &goldap.Error{ResultCode: goldap.ErrorUnexpectedResponse, Err: fmt.Errorf("the answer to StartTLS is LDAP operation %d", op.Tag)}
	}
	code, ok := op.Children[0].Value.(int64)
	if !ok {
		return &goldap.Error{ResultCode: goldap.ErrorUnexpectedResponse, Err: errors.New("the answer to StartTLS has no result code")}
	}
	if code != 0 {
		msg := ""
		if len(op.Children) > 2 {
			msg, _ = op.Children[2].Value.(string)
		}
		return &goldap.Error{ResultCode: uint16(code), Err: errors.New(msg)}
	}
	return nil
}
