package roster

import "log/slog"

// Secret is a password or key. It prints, logs and marshals as a fixed
// mask, so a Secret that reaches a log line, an error text or an API
// response by mistake gives nothing away. Reveal is the one way to read it,
// and its callers are the few places that must: the LDAP bind, the store.
type Secret string

const secretMask = "[redacted]"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) String() string       { return secretMask }
func (s Secret) GoString() string     { return secretMask }
func (s Secret) LogValue() slog.Value { return slog.StringValue(secretMask) }

// MarshalText gives the mask for a set secret and "" for an empty one, so
// that "no password" and "a password" stay distinguishable without
// revealing anything.
func (s Secret) MarshalText() ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return []byte(secretMask), nil
}

// UnmarshalText takes a secret from JSON or a config file. It refuses the
// mask itself, so that a form or file that echoes a masked secret back can
// never replace the real password with "[redacted]".
func (s *Secret) UnmarshalText(b []byte) error {
	if string(b) == secretMask {
		return Errorf(EINVALID, "%s is the mask roster shows in place of a secret, not a password; leave the field out to keep the current one", secretMask)
	}
	*s = Secret(b)
	return nil
}
