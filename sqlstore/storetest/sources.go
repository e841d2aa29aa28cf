package storetest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func sealer(t *testing.T, key byte) cipher.AEAD {
	t.Helper()
	b, err := aes.NewCipher(bytes.Repeat([]byte{key}, 32))
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func testSourcesKeepTheirPasswordSealed(t *testing.T, o Opener) {
	ctx := context.Background()
	db, r, _ := open(t, o)
	db.Sealer = sealer(t, 1)
	const pw = "Bind-Password-Very-Secret"
	src := &roster.Source{Name: "corp", Type: roster.EntraDS, Address: "20.54.1.9", TLSMode: roster.LDAPS, Domain: "corp.test",
		Login: "svc-print", Password: pw, Trust: roster.Trust{CAPEM: []byte("-----BEGIN CERTIFICATE-----\n")}}
	if err := db.SaveSource(ctx, src); err != nil || src.ID == 0 {
		t.Fatalf("SaveSource = %v, id %d", err, src.ID)
	}
	var settings string
	var sealed []byte
	if err := r.QueryRow(`SELECT settings, password_sealed FROM sources WHERE name = 'corp'`).Scan(&settings, &sealed); err != nil {
		t.Fatal(err)
	}
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(pw)) || strings.Contains(settings, pw) {
		t.Fatalf("the password is stored in clear or not at all: settings %s, sealed %d bytes", settings, len(sealed))
	}
	got, err := db.Source(ctx, src.ID)
	if err != nil || got.Password.Reveal() != pw || got.Domain != "corp.test" || string(got.Trust.CAPEM) != string(src.Trust.CAPEM) {
		t.Fatalf("Source() = %+v, %v", got, err)
	}
	// The directory certificate's expiry, as a sync saw it; the same
	// again writes nothing, a renewed one replaces it.
	for _, notAfter := range []time.Time{t0.Add(90 * 24 * time.Hour), t0.Add(90 * 24 * time.Hour), t0.Add(400 * 24 * time.Hour)} {
		if err := db.SetSourceCertificate(ctx, src.ID, notAfter); err != nil {
			t.Fatalf("SetSourceCertificate: %v", err)
		}
		if again, err := db.Source(ctx, src.ID); err != nil || !again.CertificateNotAfter.Equal(notAfter) {
			t.Fatalf("after SetSourceCertificate(%s): %v, %v", notAfter, again.CertificateNotAfter, err)
		}
	}
	// An update without a password keeps the stored one...
	got.Password, got.UserFilter = "", "(department=*)"
	if err := db.SaveSource(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Source(ctx, src.ID); again.Password.Reveal() != pw || again.UserFilter != "(department=*)" {
		t.Fatalf("after an update without password: %q, filter %s", again.Password.Reveal(), again.UserFilter)
	}
	// ...unless the address or the trust settings change: then it is
	// dropped, so that it never goes to a server it was not entered for.
	for _, change := range []func(s *roster.Source){
		func(s *roster.Source) {
			s.Trust.CAPEM = []byte("-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n")
		},
		func(s *roster.Source) { s.Address = "10.0.0.4" },
	} {
		moved, err := db.Source(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		change(moved)
		moved.Password = ""
		if err := db.SaveSource(ctx, moved); err != nil {
			t.Fatal(err)
		}
		if again, _ := db.Source(ctx, src.ID); again.Password.IsSet() {
			t.Fatalf("the stored password was kept for new trust settings: %s %s", again.Address, again.Trust.CAPEM)
		}
		moved.Password = pw // entered again
		if err := db.SaveSource(ctx, moved); err != nil {
			t.Fatal(err)
		}
		if again, _ := db.Source(ctx, src.ID); again.Password.Reveal() != pw {
			t.Fatal("a password entered again was not stored")
		}
	}
	// Another key cannot open it, and says what to do.
	db.Sealer = sealer(t, 2)
	if _, err := db.Source(ctx, src.ID); roster.ErrorCode(err) != roster.EINTERNAL {
		t.Fatalf("a wrong key = %v, want EINTERNAL", err)
	}
	db.Sealer = sealer(t, 1)
	dup := &roster.Source{Name: "corp", Type: roster.OpenLDAP}
	if err := db.SaveSource(ctx, dup); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("a second source named corp = %v, want ECONFLICT", err)
	}
	if err := db.DeleteSource(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Source(ctx, src.ID); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("a deleted source = %v", err)
	}
	if list, _ := db.Sources(ctx); len(list) != 0 {
		t.Fatalf("deleted sources are listed: %d", len(list))
	}
}
