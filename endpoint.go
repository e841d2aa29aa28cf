package roster

import (
	"encoding/hex"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// TLSMode is how the connection is protected.
type TLSMode string

const (
	LDAPS    TLSMode = "ldaps"    // TLS from the first byte, port 636
	StartTLS TLSMode = "starttls" // plain connect on 389, then upgrade before the bind
	Plain    TLSMode = "none"     // no TLS at all; only with AllowInsecure
)

// Trust says how the directory's certificate is checked. With nothing set,
// the system roots verify the chain and the name. CAPEM replaces the
// system roots with the given CAs (or a self-signed .cer): a directory
// with its own CA should not also accept every public CA. PinSHA256
// accepts exactly the leaf certificate with that SHA-256 fingerprint
// instead of a chain.
// SkipVerify turns every check off; it exists for diagnosis and is
// reported as a warning wherever the source is shown.
type Trust struct {
	CAPEM      []byte
	PinSHA256  string // hex, colons and case ignored
	ServerName string // the name the certificate must carry; see Source.ServerName
	SkipVerify bool
}

// Endpoint returns the host and port to connect to. The port defaults
// to 636 for LDAPS and 389 otherwise. A URL in Address must agree with
// TLSMode: ldaps:// goes with LDAPS; ldap:// with StartTLS or Plain.
func (s *Source) Endpoint() (host string, port int, err error) {
	host, port, _, err = s.endpoint()
	return host, port, err
}

// Mode returns the TLS mode in effect: an ldaps:// URL in Address means
// LDAPS, an ldap:// URL with no mode set means StartTLS, never plain.
func (s *Source) Mode() TLSMode {
	_, _, mode, err := s.endpoint()
	if err != nil {
		return s.TLSMode
	}
	return mode
}

func (s *Source) endpoint() (host string, port int, mode TLSMode, err error) {
	fail := func(e *Error) (string, int, TLSMode, error) { return "", 0, "", e }
	addr := strings.TrimSpace(s.Address)
	if addr == "" {
		return fail(Errorf(EINVALID, "the address is empty; give the directory's IP address or host name"))
	}
	mode = s.TLSMode
	if scheme, rest, ok := strings.Cut(addr, "://"); ok {
		switch strings.ToLower(scheme) {
		case "ldaps":
			if mode != LDAPS && mode != "" {
				return fail(Errorf(EINVALID, "the address %s is an ldaps:// URL but the SSL mode is %s; pick one", addr, mode))
			}
			mode = LDAPS
		case "ldap":
			if mode == LDAPS {
				return fail(Errorf(EINVALID, "the address %s is an ldap:// URL but the SSL mode is LDAPS; use ldaps:// or StartTLS", addr))
			}
			if mode == "" {
				mode = StartTLS
			}
		default:
			return fail(Errorf(EINVALID, "the address %s has scheme %s; use a host name, an IP address, or an ldap:// or ldaps:// URL", addr, scheme))
		}
		addr = strings.TrimSuffix(rest, "/")
	}
	switch mode {
	case LDAPS, StartTLS, Plain:
	case "":
		return fail(Errorf(EINVALID, "the SSL mode is not set; use LDAPS (port 636) or StartTLS (port 389)"))
	default:
		return fail(Errorf(EINVALID, "SSL mode %q is not one of ldaps, starttls, none", mode))
	}
	port = LDAPPort
	if mode == LDAPS {
		port = LDAPSPort
	}
	host = addr
	if h, p, err := net.SplitHostPort(addr); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail(Errorf(EINVALID, "the port in %s is not a number from 1 to 65535", s.Address))
		}
		host, port = h, n
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1] // a bracketed IPv6 address without a port
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return fail(Errorf(EINVALID, "%q is not a host name or IP address", s.Address))
	}
	return host, port, mode, nil
}

// URL returns the ldap:// or ldaps:// URL of the endpoint.
func (s *Source) URL() (string, error) {
	host, port, err := s.Endpoint()
	if err != nil {
		return "", err
	}
	scheme := "ldap"
	if s.Mode() == LDAPS {
		scheme = "ldaps"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// ServerName returns the name the server's certificate must carry. An
// explicit Trust.ServerName wins. When Address is an IP address, as in the
// founding article's setup with Entra DS's external IP, the name defaults
// to ldaps.<domain>: a wildcard *.<domain> certificate then verifies fully.
// Otherwise it is the host name itself.
func (s *Source) ServerName() string {
	if s.Trust.ServerName != "" {
		return s.Trust.ServerName
	}
	host, _, err := s.Endpoint()
	if err != nil {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil && s.Domain != "" {
		return "ldaps." + strings.ToLower(s.Domain)
	}
	return host
}

// Pin returns the pinned SHA-256 fingerprint as 32 bytes, or nil when
// none is set. Colons, spaces and case are ignored, so the forms that
// browsers, openssl and roster print are all accepted.
func (s *Source) Pin() ([]byte, error) {
	if s.Trust.PinSHA256 == "" {
		return nil, nil
	}
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(s.Trust.PinSHA256)
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != 32 {
		return nil, Errorf(EINVALID, "the pinned fingerprint must be a SHA-256 digest: 64 hex digits, colons allowed")
	}
	return b, nil
}

// Warnings lists the settings that weaken security. Every place that shows
// a source (CLI, console, API, logs) shows these with it.
func (s *Source) Warnings() []string {
	var w []string
	if s.Mode() == Plain {
		w = append(w, "TLS is off: the password and all data cross the network in clear (allow-insecure is set)")
	}
	if s.Trust.SkipVerify {
		w = append(w, "certificate verification is off: anyone between roster and the directory can read the password; trust the CA or pin the fingerprint instead")
	}
	return w
}
