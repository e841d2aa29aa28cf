package ldap

import (
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
)

func TestCheckFilter(t *testing.T) {
	tests := []struct {
		name, extra string
		wantErr     string // "" for accepted
	}{
		{"no filter is accepted", "", ""},
		{"a filter in parentheses is accepted", "(department=Sales)", ""},
		{"a filter without parentheses is accepted, as a sync wraps it", "department=Sales", ""},
		{"an AND of two terms is accepted", "(&(department=Sales)(title=*))", ""},
		{"two terms side by side are accepted, as the sync ANDs them", "(department=Sales)(title=*)", ""},
		{"an escaped parenthesis is accepted", `(cn=a\28b\29)`, ""},
		{"an unclosed parenthesis is refused", "(department=Sales", "unexpected end of filter"},
		{"a term that closes the sync's AND is refused", "(a=1))(b=2", "extra at end"},
		{"a term without an equals sign is refused", "(department)", "not a valid LDAP filter"},
		{"a bad escape is refused", `(cn=a\zz)`, "not a valid LDAP filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFilter(tt.extra)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckFilter(%q) = %v, want nil", tt.extra, err)
				}
				return
			}
			msg := roster.ErrorMessage(err)
			if roster.ErrorCode(err) != roster.EINVALID || !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, "user filter") {
				t.Fatalf("CheckFilter(%q) = %v, want EINVALID naming the user filter and %q", tt.extra, err, tt.wantErr)
			}
		})
	}
}

// entry makes an entry from attribute names and values, in pairs.
func entry(dn string, kv ...string) *Entry {
	e := &goldap.Entry{DN: dn}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attributes = append(e.Attributes, &goldap.EntryAttribute{Name: kv[i], ByteValues: [][]byte{[]byte(kv[i+1])}})
	}
	return newEntry(e)
}

func TestDialectTable(t *testing.T) {
	const adPeople = "(&(objectCategory=person)(objectClass=user))"
	ad := &RootDSE{IsAD: true, Vendor: "Active Directory"}
	openldap := &RootDSE{Vendor: "OpenLDAP"}
	tests := []struct {
		name         string
		typ          roster.DirectoryType
		anchor       string
		people       string
		groups       string
		cursor       roster.CursorKind
		disabledBy   []string
		servesAD     bool
		servesOthers bool
	}{
		{"Active Directory anchors by objectGUID, leaves computers out, tracks USNs and reads two attributes for disabled",
			roster.ActiveDirectory, "objectGUID", adPeople, "(objectClass=group)", roster.CursorUSN,
			[]string{"userAccountControl", "accountExpires"}, true, false},
		{"Entra Domain Services speaks Active Directory's dialect",
			roster.EntraDS, "objectGUID", adPeople, "(objectClass=group)", roster.CursorUSN,
			[]string{"userAccountControl", "accountExpires"}, true, false},
		{"OpenLDAP anchors by entryUUID, tracks CSNs and has no disabled accounts",
			roster.OpenLDAP, "entryUUID", "(objectClass=person)", "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))", roster.CursorCSN,
			nil, false, true},
		{"generic LDAP speaks OpenLDAP's standard dialect",
			roster.GenericLDAP, "entryUUID", "(objectClass=person)", "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))", roster.CursorCSN,
			nil, false, true},
		{"a type the root refuses falls back to the standard dialect",
			"novell", "entryUUID", "(objectClass=person)", "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))", roster.CursorCSN,
			nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DialectOf(tt.typ)
			if d.Anchor != tt.anchor || d.People != tt.people || d.Groups != tt.groups || d.Cursor != tt.cursor {
				t.Errorf("DialectOf(%q) = anchor %q, people %q, groups %q, cursor %q; want %q, %q, %q, %q",
					tt.typ, d.Anchor, d.People, d.Groups, d.Cursor, tt.anchor, tt.people, tt.groups, tt.cursor)
			}
			if !slices.Equal(d.DisabledAttrs, tt.disabledBy) || d.HasDisabled() != (tt.disabledBy != nil) {
				t.Errorf("disabled is read from %q (HasDisabled %v), want %q", d.DisabledAttrs, d.HasDisabled(), tt.disabledBy)
			}
			if d.Serves(ad) != tt.servesAD || d.Serves(openldap) != tt.servesOthers {
				t.Errorf("Serves(AD) = %v, Serves(OpenLDAP) = %v; want %v, %v", d.Serves(ad), d.Serves(openldap), tt.servesAD, tt.servesOthers)
			}
		})
	}
	t.Run("every directory type the root accepts has a dialect of its own", func(t *testing.T) {
		for _, typ := range []roster.DirectoryType{roster.ActiveDirectory, roster.EntraDS, roster.OpenLDAP, roster.GenericLDAP} {
			if _, ok := dialects[typ]; !ok {
				t.Errorf("no dialect for %q", typ)
			}
		}
	})
}

func TestDialectUserFilter(t *testing.T) {
	tests := []struct {
		name  string
		typ   roster.DirectoryType
		extra string
		want  string
	}{
		{"without an extra filter AD selects people that are users", roster.ActiveDirectory, "", "(&(objectCategory=person)(objectClass=user))"},
		{"an extra filter is ANDed with AD's", roster.EntraDS, "(department=Sales)", "(&(&(objectCategory=person)(objectClass=user))(department=Sales))"},
		{"an extra filter without parentheses gets them", roster.OpenLDAP, "department=Sales", "(&(objectClass=person)(department=Sales))"},
		{"without an extra filter OpenLDAP selects persons", roster.OpenLDAP, "", "(objectClass=person)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DialectOf(tt.typ).UserFilter(tt.extra); got != tt.want {
				t.Fatalf("UserFilter(%q) = %q, want %q", tt.extra, got, tt.want)
			}
		})
	}
}

func TestDialectDisabled(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ticks := func(t time.Time) string { return itoa(t.UnixNano()/100 + 116444736000000000) }
	tests := []struct {
		name  string
		typ   roster.DirectoryType
		entry *Entry
		want  bool
	}{
		{"an AD account with ACCOUNTDISABLE is disabled", roster.ActiveDirectory,
			entry("CN=a", "userAccountControl", "514"), true},
		{"an AD account whose accountExpires has passed is disabled", roster.ActiveDirectory,
			entry("CN=a", "userAccountControl", "512", "accountExpires", ticks(now.Add(-time.Minute))), true},
		{"an AD account that expires later is enabled", roster.ActiveDirectory,
			entry("CN=a", "userAccountControl", "512", "accountExpires", ticks(now.Add(time.Minute))), false},
		{"an AD account that never expires is enabled", roster.ActiveDirectory,
			entry("CN=a", "userAccountControl", "512", "accountExpires", "0"), false},
		{"an Entra DS account is judged as AD's", roster.EntraDS,
			entry("CN=a", "userAccountControl", "512", "accountExpires", ticks(now.Add(-time.Minute))), true},
		{"an OpenLDAP entry is never disabled, even with AD's attributes", roster.OpenLDAP,
			entry("uid=a", "userAccountControl", "514", "accountExpires", "1", "pwdAccountLockedTime", "000001010000Z"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DialectOf(tt.typ).Disabled(tt.entry, now); got != tt.want {
				t.Fatalf("Disabled = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDialectAnchorAndGroupName(t *testing.T) {
	guid := string([]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f})
	tests := []struct {
		name       string
		typ        roster.DirectoryType
		entry      *Entry
		wantAnchor string
		wantErr    string
		wantName   string
	}{
		{"an AD entry is anchored by its objectGUID in AD's form and named by sAMAccountName", roster.ActiveDirectory,
			entry("CN=Staff", "objectGUID", guid, "cn", "Staff", "sAMAccountName", "staff-all"),
			"03020100-0504-0706-0809-0a0b0c0d0e0f", "", "staff-all"},
		{"an AD group without sAMAccountName is named by its cn", roster.EntraDS,
			entry("CN=Staff", "objectGUID", guid, "cn", "Staff"),
			"03020100-0504-0706-0809-0a0b0c0d0e0f", "", "Staff"},
		{"an AD entry with a short objectGUID has no anchor, and the error says why", roster.ActiveDirectory,
			entry("CN=Staff", "objectGUID", guid[:15], "cn", "Staff"),
			"", "15 bytes, not 16", "Staff"},
		{"an OpenLDAP entry is anchored by its entryUUID in lower case and named by cn", roster.OpenLDAP,
			entry("cn=staff", "entryUUID", "0F1E2D3C-0000-4000-8000-00000000000A", "cn", "staff", "sAMAccountName", "ignored"),
			"0f1e2d3c-0000-4000-8000-00000000000a", "", "staff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DialectOf(tt.typ)
			got, err := d.AnchorOf(tt.entry)
			if got != tt.wantAnchor || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("AnchorOf = %q, %v; want %q, error containing %q", got, err, tt.wantAnchor, tt.wantErr)
			}
			if name := d.GroupName(tt.entry); name != tt.wantName {
				t.Errorf("GroupName = %q, want %q", name, tt.wantName)
			}
		})
	}
}
