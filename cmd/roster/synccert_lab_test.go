package main

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/lab/labenv"
)

// A sync from the command line (cron's roster sync) records the expiry of
// the certificate the directory showed, as a sync started in the console
// does: the console's expiry warning must come for such a source too.
func TestCommandLineSyncRecordsTheDirectoryCertificatesExpiry(t *testing.T) {
	env := labenv.Require(t)
	ctx := context.Background()
	for _, d := range []labenv.Directory{labenv.AD, labenv.OpenLDAP} {
		t.Run(string(d), func(t *testing.T) {
			data := t.TempDir()
			// The source as the console stores it, read from the
			// article's form over LDAPS; cron then runs roster sync
			// -source.
			var logs lockedBuffer
			a := quietApp(&logs)
			var sf sourceFlags
			fs := newFlagSet(a, "test", "")
			sf.register(fs)
			if err := fs.Parse(withTLS(env, d, labArgs(env, d), "ldaps")); err != nil {
				t.Fatal(err)
			}
			src, err := sf.source(a)
			if err != nil {
				t.Fatal(err)
			}
			src.Name = "lab"
			db := sealedStore(t, a, data)
			if err := db.SaveSource(ctx, src); err != nil {
				t.Fatal(err)
			}
			if code, out, errOut := runCLI(t, nil, "sync", "-data", data, "-source", "lab"); code != exitOK {
				t.Fatalf("roster sync -source lab = %d\n%s%s", code, out, errOut)
			}

			// What the directory shows, read apart from roster.
			_, hostport, _ := strings.Cut(env.Get("LAB_"+string(d)+"_LDAPS_URL"), "://")
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: labenv.Budget(10 * time.Second)}, "tcp", hostport, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			want := c.ConnectionState().PeerCertificates[0].NotAfter
			c.Close()

			if src, err = db.Source(ctx, src.ID); err != nil {
				t.Fatal(err)
			}
			if got := src.CertificateNotAfter; got.IsZero() || got.Sub(want).Abs() > time.Second {
				t.Fatalf("the source's certificate expiry after roster sync = %v; the directory's certificate expires %v", got, want)
			}
		})
	}
}
