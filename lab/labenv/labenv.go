// Package labenv gives tests the connection facts of the directory lab
// (lab/lab up: Samba AD, OpenLDAP and PostgreSQL), and decides what a test
// does when the lab is down: skip on a developer's machine, fail under CI
// (CI=true) and under make test, where a missing lab means the suite did
// not test what it claims to.
package labenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/lab/labdata"
)

// Env is what lab/lab env prints, parsed.
type Env struct {
	vars map[string]string
}

// Get returns the variable NAME, from the process environment first and
// from the lab's env file second.
func (e *Env) Get(name string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return e.vars[name]
}

// Dir returns the lab folder: $LAB_DIR, or /tmp/roster-lab.
func Dir() string {
	if d := os.Getenv("LAB_DIR"); d != "" {
		return d
	}
	return "/tmp/roster-lab"
}

// Load reads the lab's env file. It fails when the lab was never brought up.
func Load() (*Env, error) {
	path := filepath.Join(Dir(), "env")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the directory lab is not set up (%v); run lab/lab up", err)
	}
	defer f.Close()
	e := &Env{vars: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		// lab/lab writes every value in single quotes and refuses values
		// that contain one, so unquoting is just trimming.
		e.vars[k] = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
	}
	return e, sc.Err()
}

// Required reports whether a missing lab fails tests instead of skipping
// them: under CI (CI=true), and under make test (ROSTER_REQUIRE_LAB=1),
// which brings the lab up first and must not pass by skipping.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("ROSTER_REQUIRE_LAB") == "1"
}

// Require returns the lab's facts if all its servers answer, and otherwise
// skips the test, or fails it when CI=true.
func Require(t testing.TB) *Env {
	t.Helper()
	e, err := Load()
	if err == nil {
		err = e.reachable()
	}
	if err != nil {
		unavailable(t, err)
	}
	return e
}

// unavailable skips the test, or fails it where the lab is required.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("directory lab unavailable, and required here (CI=true or ROSTER_REQUIRE_LAB=1): %v", err)
	}
	t.Skipf("directory lab unavailable (%v); run lab/lab up", err)
}

func (e *Env) reachable() error {
	for _, k := range []string{"LAB_AD_LDAPS_URL", "LAB_AD_STARTTLS_URL", "LAB_OL_LDAPS_URL", "LAB_OL_STARTTLS_URL"} {
		u := e.Get(k)
		_, hostport, ok := strings.Cut(u, "://")
		if !ok {
			return fmt.Errorf("%s is not set in the lab's env file", k)
		}
		c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
		if err != nil {
			return fmt.Errorf("%s (%s) does not answer: %v", k, u, err)
		}
		c.Close()
	}
	// LAB_PG_DSN holds the roster role's password, so errors name only
	// its address.
	u, err := e.postgresURL()
	if err != nil {
		return err
	}
	c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		return fmt.Errorf("LAB_PG_DSN (PostgreSQL at %s) does not answer: %v", u.Host, err)
	}
	c.Close()
	return nil
}

// postgresURL parses LAB_PG_DSN. Its errors never quote the URL, which
// holds a password.
func (e *Env) postgresURL() (*url.URL, error) {
	dsn := e.Get("LAB_PG_DSN")
	if dsn == "" {
		return nil, errors.New("LAB_PG_DSN is not set in the lab's env file (a lab brought up before PostgreSQL joined it; lab/lab up adds it)")
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return nil, errors.New("LAB_PG_DSN is not a postgres:// URL with a host")
	}
	return u, nil
}

// PostgresDSN returns LAB_PG_DSN, the URL of the lab's PostgreSQL database
// roster as the role roster, which owns it and may create databases. When
// it is missing the test skips, or fails where the lab is required. Tests
// that write should use a database of their own: PostgresDatabase.
func (e *Env) PostgresDSN(t testing.TB) string {
	t.Helper()
	if _, err := e.postgresURL(); err != nil {
		unavailable(t, err)
	}
	return e.Get("LAB_PG_DSN")
}

// PostgresDatabase creates an empty database for the test, named roster_t_
// and 16 random hex digits and owned by the role roster, and returns its
// URL. The database is dropped when the test ends, WITH (FORCE), so
// connections the test left open do not keep it.
func (e *Env) PostgresDatabase(t testing.TB) string {
	t.Helper()
	return e.newDatabase(t, func(name string) string { return "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() })
}

// PostgresCopy creates a database for the test as a copy of the database
// at dsn (one the test made with PostgresDatabase, and that nothing is
// connected to: PostgreSQL copies a template only then), and returns its
// URL. It is dropped when the test ends. Copying a small user base this
// way is much cheaper than syncing it again.
func (e *Env) PostgresCopy(t testing.TB, dsn string) string {
	t.Helper()
	from, err := url.Parse(dsn)
	if err != nil || len(from.Path) < 2 {
		t.Fatal("PostgresCopy: the database to copy is not a postgres:// URL with a database name")
	}
	template := from.Path[1:]
	return e.newDatabase(t, func(name string) string {
		return "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	})
}

// newDatabase creates a database named roster_t_ and 16 random hex digits
// with the statement create makes of its name, drops it when the test
// ends, and returns its URL.
func (e *Env) newDatabase(t testing.TB, create func(name string) string) string {
	t.Helper()
	dsn := e.PostgresDSN(t)
	u, _ := e.postgresURL() // PostgresDSN checked it
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	name := "roster_t_" + hex.EncodeToString(b[:])
	if err := postgresExec(dsn, create(name)); err != nil {
		t.Fatalf("creating database %s in the lab's PostgreSQL: %v", name, err)
	}
	t.Cleanup(func() {
		if err := postgresExec(dsn, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping the test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// postgresExec runs one statement on a connection of its own. CREATE and
// DROP DATABASE cannot run in a transaction, and cleanups run after the
// test's context is cancelled, hence the context of its own too.
func postgresExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// Directory names one of the lab's two servers.
type Directory string

const (
	AD       Directory = "AD"
	OpenLDAP Directory = "OL"
)

// Source returns a roster source for a lab directory, in the given TLS
// mode, trusting the lab CA and binding as the ordinary svc-print account.
func (e *Env) Source(t testing.TB, d Directory, mode roster.TLSMode) *roster.Source {
	t.Helper()
	ca, err := os.ReadFile(e.Get("LAB_CA_FILE"))
	if err != nil {
		t.Fatalf("reading the lab CA: %v", err)
	}
	url := e.Get("LAB_" + string(d) + "_LDAPS_URL")
	if mode != roster.LDAPS {
		url = e.Get("LAB_" + string(d) + "_STARTTLS_URL")
	}
	typ := roster.EntraDS
	if d == OpenLDAP {
		typ = roster.OpenLDAP
	}
	return &roster.Source{
		Name:     "lab " + string(d),
		Type:     typ,
		Address:  strings.TrimPrefix(strings.TrimPrefix(url, "ldaps://"), "ldap://"),
		TLSMode:  mode,
		Domain:   e.Get("LAB_" + string(d) + "_DOMAIN"),
		BaseDNs:  []string{e.Get("LAB_" + string(d) + "_USERS_DN")},
		Login:    e.Get("LAB_" + string(d) + "_BIND_USER"),
		Password: roster.Secret(e.Get("LAB_BIND_PASSWORD")),
		Trust:    roster.Trust{CAPEM: ca, ServerName: e.Get("LAB_" + string(d) + "_SERVER_NAME")},
	}
}

// Data regenerates the data the lab loaded into a directory, from the
// same seed and count, so tests compare against what must be there.
func (e *Env) Data(t testing.TB, d Directory) *labdata.Data {
	t.Helper()
	seed, err1 := strconv.ParseUint(e.Get("LAB_SEED"), 10, 64)
	key := "LAB_USERS"
	if d == AD {
		key = "LAB_AD_USERS"
	}
	n, err2 := strconv.Atoi(e.Get(key))
	if err1 != nil || err2 != nil {
		t.Fatalf("the lab's env file has no valid LAB_SEED or %s", key)
	}
	data, err := labdata.Generate(seed, n)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// RequireCommands checks that programs the test drives (openssl, keytool,
// slapd) are installed, and otherwise skips the test, or fails it where the
// lab is required: .ci/run installs them.
func RequireCommands(t testing.TB, names ...string) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
				if _, serr := os.Stat(filepath.Join(dir, n)); serr == nil {
					p, err = filepath.Join(dir, n), nil
				}
			}
		}
		if err != nil {
			if Required() {
				t.Fatalf("%s is not installed, and required here; lab/lab up installs it", n)
			}
			t.Skipf("%s is not installed; lab/lab up installs it", n)
		}
		paths[n] = p
	}
	return paths
}

// Admin returns a go-ldap connection to a lab directory, bound as its
// administrator over LDAPS with the lab CA verified, for tests that change
// the directory between syncs. Tests must change only entries they made,
// under a base of their own, never the generated data others count.
func (e *Env) Admin(t testing.TB, d Directory) *goldap.Conn {
	t.Helper()
	src := e.Source(t, d, roster.LDAPS)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(src.Trust.CAPEM)
	c, err := goldap.DialURL(e.Get("LAB_"+string(d)+"_LDAPS_URL"),
		goldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, ServerName: src.ServerName()}))
	if err != nil {
		t.Fatalf("dialing the lab %s as admin: %v", d, err)
	}
	user := e.Get("LAB_AD_ADMIN_USER")
	if d == OpenLDAP {
		user = e.Get("LAB_OL_ADMIN_DN")
	}
	if err := c.Bind(user, e.Get("LAB_ADMIN_PASSWORD")); err != nil {
		c.Close()
		t.Fatalf("binding to the lab %s as admin: %v", d, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ClosedAddress returns a loopback address where nothing listens: a port
// just given back, for tests of a refused connection.
func ClosedAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
