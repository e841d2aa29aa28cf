package ldap_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/ldap"
)

// syncCount reads src's users as a sync does (Directory.Users) and
// counts them and the records marked disabled.
func syncCount(t *testing.T, src *roster.Source) (users, disabled int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), labenv.Budget(2*time.Minute))
	defer cancel()
	d, err := ldap.Dialer{}.Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Users(ctx, func(page []roster.Record) error {
		for _, r := range page {
			users++
			if r.Disabled {
				disabled++
			}
		}
		return nil
	}, func(e roster.EntryError) error {
		t.Errorf("the sync could not map %s: %s", e.DN, e.Message)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return users, disabled
}

func survey(t *testing.T, src *roster.Source) *ldap.Survey {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), labenv.Budget(2*time.Minute))
	defer cancel()
	s, err := ldap.Dialer{}.Survey(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// adTicks is t as AD's accountExpires: 100 ns ticks since 1601.
func adTicks(t time.Time) string {
	return strconv.FormatInt(t.Unix()*1e7+116444736000000000, 10)
}

// TestLabConnectAndSyncCountDisabledUsersAlike checks issue 16's promise
// on Samba: roster connect's survey and a sync's records call the same
// accounts disabled. In an OU of the test's own, one account has the
// ACCOUNTDISABLE bit, one an accountExpires in the past (which a count
// of userAccountControl alone misses), and one is enabled: both say 2.
// Over the lab's generated users both say the same number too.
func TestLabConnectAndSyncCountDisabledUsersAlike(t *testing.T) {
	env := labenv.Require(t)
	admin := env.Admin(t, labenv.AD)
	b := make([]byte, 4)
	rand.Read(b)
	name := "rt-" + hex.EncodeToString(b)
	ou := "OU=" + name + "," + env.Get("LAB_AD_BASE_DN")
	add := goldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{name})
	if err := admin.Add(add); err != nil {
		t.Fatalf("adding %s: %v", ou, err)
	}
	t.Cleanup(func() {
		res, err := admin.Search(goldap.NewSearchRequest(ou, goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		if err == nil {
			for _, e := range res.Entries {
				admin.Del(goldap.NewDelRequest(e.DN, nil))
			}
		}
		admin.Del(goldap.NewDelRequest(ou, nil))
	})
	// sAMAccountName is unique in the whole domain: each carries the OU's
	// random part, so runs sharing the lab never collide.
	sfx := hex.EncodeToString(b)[:6]
	for _, u := range []struct{ login, uac, expires string }{
		{"off-" + sfx, "546", ""}, // ACCOUNTDISABLE | PASSWD_NOTREQD
		{"gone-" + sfx, "544", adTicks(time.Now().Add(-48 * time.Hour))},
		{"on-" + sfx, "544", adTicks(time.Now().Add(30 * 24 * time.Hour))},
	} {
		dn := "CN=" + u.login + "," + ou
		add := goldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"user"})
		add.Attribute("sAMAccountName", []string{u.login})
		add.Attribute("userPrincipalName", []string{u.login + "@" + env.Get("LAB_AD_DOMAIN")})
		add.Attribute("displayName", []string{"Name " + u.login})
		add.Attribute("userAccountControl", []string{u.uac})
		if u.expires != "" {
			add.Attribute("accountExpires", []string{u.expires})
		}
		if err := admin.Add(add); err != nil {
			t.Fatalf("adding %s: %v", dn, err)
		}
	}

	t.Run("an OU with one disabled, one expired and one enabled account counts 2 disabled both ways", func(t *testing.T) {
		src := env.Source(t, labenv.AD, roster.LDAPS)
		src.BaseDNs = []string{ou}
		s := survey(t, src)
		users, disabled := syncCount(t, src)
		if s.Disabled == nil {
			t.Fatalf("the survey of an AD source counted no disabled users: %+v", s)
		}
		if *s.Disabled != disabled || s.Users != users {
			t.Fatalf("connect counts %d users, %d disabled; sync %d users, %d disabled", s.Users, *s.Disabled, users, disabled)
		}
		if users != 3 || disabled != 2 {
			t.Fatalf("both count %d users, %d disabled; want 3 users, 2 disabled", users, disabled)
		}
	})

	t.Run("the lab's generated AD users count alike both ways", func(t *testing.T) {
		src := env.Source(t, labenv.AD, roster.LDAPS)
		s := survey(t, src)
		users, disabled := syncCount(t, src)
		if s.Disabled == nil || *s.Disabled != disabled || s.Users != users {
			t.Fatalf("connect counts %d users, %v disabled; sync %d users, %d disabled", s.Users, s.Disabled, users, disabled)
		}
		if want := len(env.Data(t, labenv.AD).DisabledLogins()); disabled < want {
			t.Fatalf("%d disabled, fewer than the %d generated ones", disabled, want)
		}
	})

	t.Run("OpenLDAP has no disabled users to count, and the users count alike", func(t *testing.T) {
		src := env.Source(t, labenv.OpenLDAP, roster.LDAPS)
		s := survey(t, src)
		users, disabled := syncCount(t, src)
		if s.Disabled != nil || disabled != 0 {
			t.Fatalf("OpenLDAP: connect counts %v disabled, sync %d; want none and 0", s.Disabled, disabled)
		}
		if s.Users != users || users == 0 {
			t.Fatalf("OpenLDAP: connect counts %d users, sync %d", s.Users, users)
		}
	})
}
