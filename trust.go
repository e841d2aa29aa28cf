package roster

import (
	"bytes"
	"encoding/pem"
	"strconv"
	"strings"
)

// TrustChanges lists the settings that differ between the stored source
// old and its new version among those that decide where the bind
// password goes and how the server there must prove itself: the address
// (host and port as dialled), the TLS mode, allow-insecure, the TLS
// server name in effect, the trusted CAs, the pinned fingerprint,
// skip-verify, and the login and domain the password belongs to. Each is
// named as the API names it (address, tls, allow_insecure, server_name,
// ca_pem, pin_sha256, insecure_skip_verify, login, domain).
//
// A stored password may only be used with the settings it was stored
// with: when the list is not empty, the password must be entered again,
// or a caller who may edit the source could send it to a server of its
// choosing by changing only the CA or the pin. Spellings that name the
// same thing (ldaps://dc1 and dc1 with LDAPS, a pin with or without
// colons, a CA file with other line ends) are not changes.
func TrustChanges(old, new *Source) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("address", dialAddress(old) != dialAddress(new))
	add("tls", old.Mode() != new.Mode())
	add("allow_insecure", old.AllowInsecure != new.AllowInsecure)
	add("server_name", !strings.EqualFold(old.ServerName(), new.ServerName()))
	add("ca_pem", !bytes.Equal(caKey(old.Trust.CAPEM), caKey(new.Trust.CAPEM)))
	add("pin_sha256", pinKey(old) != pinKey(new))
	add("insecure_skip_verify", old.Trust.SkipVerify != new.Trust.SkipVerify)
	add("login", strings.TrimSpace(old.Login) != strings.TrimSpace(new.Login))
	add("domain", !strings.EqualFold(strings.TrimSpace(old.Domain), strings.TrimSpace(new.Domain)))
	// An Entra ID app's secret goes to the token host of its tenant and
	// cloud, for its client ID: a change of any of them must not carry
	// the stored secret along.
	og, ng := old.Graph, new.Graph
	add("type", old.Type != new.Type)
	add("graph.tenant_id", !strings.EqualFold(og.TenantID, ng.TenantID))
	add("graph.client_id", !strings.EqualFold(og.ClientID, ng.ClientID))
	add("graph.cloud", !strings.EqualFold(og.Cloud, ng.Cloud))
	add("graph.authority_host", !strings.EqualFold(strings.TrimSuffix(og.AuthorityHost, "/"), strings.TrimSuffix(ng.AuthorityHost, "/")))
	add("graph.graph_host", !strings.EqualFold(strings.TrimSuffix(og.GraphHost, "/"), strings.TrimSuffix(ng.GraphHost, "/")))
	return out
}

// dialAddress is the host and port a source dials, in lower case; the
// address as typed when it does not parse.
func dialAddress(s *Source) string {
	host, port, err := s.Endpoint()
	if err != nil {
		return "invalid:" + strings.TrimSpace(s.Address)
	}
	return strings.ToLower(host) + " " + strconv.Itoa(port)
}

// caKey is the trusted CAs as the verifier reads them: the PEM blocks in
// order, whatever the line ends and text around them; a DER file (or
// anything else) as it is.
func caKey(b []byte) []byte {
	var key []byte
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		key = append(key, block.Type...)
		key = append(key, 0)
		key = append(key, block.Bytes...)
	}
	if key == nil {
		return bytes.TrimSpace(b)
	}
	return key
}

func pinKey(s *Source) string {
	pin, err := s.Pin()
	if err != nil {
		return "invalid:" + s.Trust.PinSHA256
	}
	return string(pin)
}
