package roster

import (
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DNKey returns the form under which roster compares distinguished
// names: two spellings of a DN that a directory takes for one entry have
// one key. It reads the DN as RFC 4514 writes it, and
//   - lower-cases attribute types (CN=x and cn=x are one), and names the
//     common ones given as OIDs (2.5.4.3=x is cn=x);
//   - unescapes values: \, and \2C are one comma, and the hex-escaped
//     UTF-8 bytes caf\C3\A9 are café; a value written as #hex (its BER
//     encoding) is read as the string it encodes;
//   - ignores the spaces around the separators , + = (and ; as a
//     separator, which older writers use); an escaped space is kept;
//   - compares values in Unicode NFC and without regard to case, as AD
//     and OpenLDAP's naming attributes (cn, ou, dc, uid) do;
//   - sorts the parts of a multi-valued RDN (cn=a+uid=b is uid=b+cn=a).
//
// The key is itself a DN, escaped as little as RFC 4514 allows, so the key
// of a plain DN is that DN in lower case. A string that is not a DN keys
// as its trimmed, lower-cased text: it then matches only itself.
func DNKey(dn string) string {
	if k, ok := plainDNKey(dn); ok {
		return k
	}
	rdns, ok := parseDN(dn)
	if !ok {
		return fallbackDNKey(dn)
	}
	return strings.Join(rdns, ",")
}

// DNWithin reports whether dn is base or lies under it, comparing RDNs
// as DNKey does: cn=a\,b,dc=x is under dc=x, and not under b,dc=x. Every
// DN lies within the empty base (the root). When either does not parse
// as a DN, their keys are compared as text.
func DNWithin(dn, base string) bool {
	d, ok1 := parseDN(dn)
	b, ok2 := parseDN(base)
	if !ok1 || !ok2 {
		k, bk := DNKey(dn), DNKey(base)
		return bk == "" || k == bk || strings.HasSuffix(k, ","+bk)
	}
	return len(b) <= len(d) && slices.Equal(d[len(d)-len(b):], b)
}

func fallbackDNKey(dn string) string {
	return strings.ToLower(strings.TrimSpace(dn))
}

// plainDNKey is DNKey for the DNs that need no parsing, most of them:
// ASCII letters, digits and - . _ @ and inner spaces only, each RDN one
// type=value with a type that starts with a letter. Their key is their
// lower-cased text.
func plainDNKey(dn string) (string, bool) {
	const (
		typeStart = iota
		inType
		valueStart
		inValue
	)
	state, upper := typeStart, false
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		upper = upper || 'A' <= c && c <= 'Z'
		digit := '0' <= c && c <= '9'
		switch state {
		case typeStart:
			if !letter {
				return "", false
			}
			state = inType
		case inType:
			switch {
			case c == '=':
				state = valueStart
			case !letter && !digit && c != '-':
				return "", false
			}
		case valueStart, inValue:
			switch {
			case letter || digit || c == '-' || c == '.' || c == '_' || c == '@':
				state = inValue
			case c == ' ' && state == inValue && i+1 < len(dn) && dn[i+1] != ' ' && dn[i+1] != ',':
				// an inner space, not the last of the value
			case c == ',' && state == inValue:
				state = typeStart
			default:
				return "", false
			}
		}
	}
	if state != inValue {
		return "", false // empty, or ends within a type or after a separator
	}
	if !upper {
		return dn, true
	}
	return strings.ToLower(dn), true
}

// parseDN returns the key of each RDN of s, the entry's own first, or
// false when s is not a DN. The empty DN has no RDNs.
func parseDN(s string) ([]string, bool) {
	p := dnParser{s: s}
	p.spaces()
	if p.i == len(s) {
		return nil, true
	}
	var rdns []string
	var avas []string
	for {
		ava, ok := p.ava()
		if !ok {
			return nil, false
		}
		avas = append(avas, ava)
		if p.i == len(s) {
			return append(rdns, rdnKey(avas)), true
		}
		switch s[p.i] {
		case '+':
		case ',', ';':
			rdns = append(rdns, rdnKey(avas))
			avas = avas[:0]
		default:
			return nil, false
		}
		p.i++
	}
}

// rdnKey joins the parts of an RDN in sorted order.
func rdnKey(avas []string) string {
	if len(avas) == 1 {
		return avas[0]
	}
	sorted := slices.Clone(avas)
	slices.Sort(sorted)
	return strings.Join(sorted, "+")
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) spaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// ava reads type=value, with the spaces around it, and returns its key.
func (p *dnParser) ava() (string, bool) {
	p.spaces()
	typ, ok := p.attrType()
	if !ok {
		return "", false
	}
	p.spaces()
	if p.i == len(p.s) || p.s[p.i] != '=' {
		return "", false
	}
	p.i++
	p.spaces()
	var value string
	switch {
	case p.i < len(p.s) && p.s[p.i] == '#':
		raw, ok := p.hexValue()
		if !ok {
			return "", false
		}
		s, ok := berString(raw)
		if !ok {
			// Not a string: compared as its encoding.
			p.spaces()
			return typ + "=#" + hex.EncodeToString(raw), true
		}
		value = s
	case p.i < len(p.s) && p.s[p.i] == '"':
		if value, ok = p.quotedValue(); !ok {
			return "", false
		}
	default:
		if value, ok = p.stringValue(); !ok {
			return "", false
		}
	}
	p.spaces()
	return typ + "=" + escapeDNValue(foldDNValue(value)), true
}

// knownOIDs names the attribute types that DNs use, when given as OIDs.
var knownOIDs = map[string]string{
	"2.5.4.3":                    "cn",
	"2.5.4.6":                    "c",
	"2.5.4.7":                    "l",
	"2.5.4.8":                    "st",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "o",
	"2.5.4.11":                   "ou",
	"0.9.2342.19200300.100.1.1":  "uid",
	"0.9.2342.19200300.100.1.25": "dc",
}

// attrType reads a descriptor (a letter, then letters, digits and
// hyphens) or a numeric OID, optionally after "OID.", in lower case.
func (p *dnParser) attrType() (string, bool) {
	start := p.i
	for p.i < len(p.s) && isTypeByte(p.s[p.i]) {
		p.i++
	}
	typ := strings.ToLower(p.s[start:p.i])
	if typ == "" {
		return "", false
	}
	if rest, ok := strings.CutPrefix(typ, "oid."); ok {
		typ = rest
	}
	if typ == "" {
		return "", false
	}
	if c := typ[0]; 'a' <= c && c <= 'z' {
		if strings.Contains(typ, ".") {
			return "", false
		}
		return typ, true
	}
	for _, part := range strings.Split(typ, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return "", false
		}
	}
	if name, ok := knownOIDs[typ]; ok {
		return name, true
	}
	return typ, true
}

func isTypeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'
}

// hexValue reads #hexpairs, at least one pair.
func (p *dnParser) hexValue() ([]byte, bool) {
	p.i++ // '#'
	start := p.i
	for p.i < len(p.s) && isHex(rune(p.s[p.i])) {
		p.i++
	}
	raw, err := hex.DecodeString(p.s[start:p.i])
	return raw, err == nil && len(raw) > 0
}

// quotedValue reads a value in double quotes, as RFC 1779 and 2253
// allowed: everything up to the closing quote counts, escapes included.
func (p *dnParser) quotedValue() (string, bool) {
	p.i++ // '"'
	var b []byte
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case '"':
			p.i++
			return string(b), true
		case '\\':
			c, ok := p.escaped()
			if !ok {
				return "", false
			}
			b = append(b, c)
		default:
			b = append(b, c)
			p.i++
		}
	}
	return "", false
}

// stringValue reads a value up to the next unescaped separator. Spaces
// at its end are dropped unless escaped.
func (p *dnParser) stringValue() (string, bool) {
	var b []byte
	keep := 0 // bytes up to the last one that is not an unescaped space
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case ',', ';', '+':
			return string(b[:keep]), true
		case '\\':
			e, ok := p.escaped()
			if !ok {
				return "", false
			}
			b = append(b, e)
			keep = len(b)
			continue
		}
		b = append(b, c)
		if c != ' ' {
			keep = len(b)
		}
		p.i++
	}
	return string(b[:keep]), true
}

// escaped reads \XX (a byte in hex) or \c (c one of the characters that
// RFC 4514 lets be escaped so) at p.i and returns the byte it stands for.
func (p *dnParser) escaped() (byte, bool) {
	if p.i+2 < len(p.s) && isHex(rune(p.s[p.i+1])) && isHex(rune(p.s[p.i+2])) {
		b, _ := hex.DecodeString(p.s[p.i+1 : p.i+3])
		p.i += 3
		return b[0], true
	}
	if p.i+1 < len(p.s) && strings.IndexByte(` "#+,;<=>\`, p.s[p.i+1]) >= 0 {
		c := p.s[p.i+1]
		p.i += 2
		return c, true
	}
	return 0, false
}

// berString reads the BER encoding of a string (the #hex form of a
// value): a string tag, a definite length, and exactly that many bytes.
func berString(b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	switch b[0] {
	case 0x04, 0x0c, 0x13, 0x14, 0x16, 0x1a: // octet, UTF8, printable, T61, IA5, visible
	default:
		return "", false
	}
	n, off := int(b[1]), 2
	if n&0x80 != 0 {
		size := n & 0x7f
		if size == 0 || size > 2 || len(b) < 2+size {
			return "", false
		}
		n = 0
		for _, c := range b[2 : 2+size] {
			n = n<<8 | int(c)
		}
		off = 2 + size
	}
	if off+n != len(b) {
		return "", false
	}
	return string(b[off:]), true
}

// foldDNValue puts a value in NFC and lower case, as the directories'
// case-ignoring matching rules compare it. In a value that is not UTF-8,
// only ASCII letters are lower-cased; the other bytes stay. Inner spaces
// stay as they are: AD tells "John  Smith" from "John Smith".
func foldDNValue(v string) string {
	if !utf8.ValidString(v) {
		b := []byte(v)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	return norm.NFC.String(strings.ToLower(norm.NFC.String(v)))
}

// escapeDNValue writes a value as RFC 4514 requires, escaping as little
// as it allows: the special characters with a backslash, a leading space
// or #, a trailing space, and control characters and bytes that are not
// UTF-8 in hex.
func escapeDNValue(v string) string {
	if !needsEscape(v) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f:
			b.WriteByte('\\')
			b.WriteString(hex.EncodeToString([]byte{v[i]}))
		case strings.ContainsRune(`"+,;<>\`, r),
			i == 0 && (r == ' ' || r == '#'),
			i+size == len(v) && r == ' ':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteString(v[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == ' ' || v[0] == '#' || v[len(v)-1] == ' ' || !utf8.ValidString(v) {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f || strings.IndexByte(`"+,;<>\`, c) >= 0 {
			return true
		}
	}
	return false
}
