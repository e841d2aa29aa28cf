package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/datadir"
	rhttp "github.com/rosterhq/roster/http"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
	"github.com/rosterhq/roster/runner"
	"github.com/rosterhq/roster/sqlstore"
)

func runServe(ctx context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "serve", "[-listen 127.0.0.1:8080] [-tls-cert FILE -tls-key FILE] [-data DIR] [-db postgres://...]")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on; the default is this machine only")
	certFile := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM)")
	keyFile := fs.String("tls-key", "", "the certificate's private key (PEM)")
	secureCookies := fs.Bool("secure-cookies", false, "mark session cookies Secure on plain HTTP too (behind a TLS proxy)")
	check := fs.Duration("schedule-check", runner.DefaultScheduleCheck, "how often the scheduler looks for due syncs; a scheduled sync starts at most this late")
	leaseTTL := fs.Duration("lease", runner.DefaultLeaseTTL, "how long this node's hold on a syncing source lasts without renewal: another node takes over at most this long after this one dies (at least 3s)")
	store := addStoreFlags(fs, "", "")
	syncPriority := fs.String("sync-priority", string(runner.PriorityIdle), "the CPU priority of sync processes: idle (they run when nothing else wants the CPU), low (niceness 19) or normal (as the server): print terminals' lookups go first")
	inProcess := fs.Bool("sync-in-process", false, "run syncs inside the server instead of in a process of their own (lookups then wait behind them)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *check < time.Second || *check > time.Minute {
		return usageErrorf("-schedule-check must be between 1s and 1m")
	}
	if *leaseTTL < 3*time.Second {
		return usageErrorf("-lease must be at least 3s, so that renewals (every third of it) keep up")
	}
	priority, err := runner.ParsePriority(*syncPriority)
	if err != nil {
		return usageErrorf("-sync-priority: %v", err)
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageErrorf("give both -tls-cert and -tls-key, or neither")
	}
	var tlsConfig *tls.Config
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return usageErrorf("cannot load the HTTPS certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	// Requests (and syncs, with -sync-in-process) allocate short-lived
	// values: fewer collections shorten the print terminals' tail.
	defer collectLess(a, 256<<20)()
	place, err := store.place(a, "")
	if err != nil {
		return err
	}
	dir := place.Dir
	db, err := place.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Sealer, err = secretSealer(a, dir); err != nil {
		return err
	}
	hash, err := datadir.PrintCodeHasher(dir, true)
	if err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, a, db); err != nil {
		return err
	}

	syncs := runner.NewService(ctx, &runner.Runner{Store: db, Hash: hash, Now: a.now, Log: a.log}, dir)
	syncs.LeaseTTL, syncs.InProcess, syncs.Priority = *leaseTTL, *inProcess, priority
	syncs.DBLocation, syncs.Stderr, syncs.Getenv = place.DB, a.stderr, a.getenv
	syncs.Schedule(*check)
	srv := &rhttp.Server{Store: db, Sources: db, Syncer: syncs, Log: a.log, Now: a.now, Version: versionString(), SecureCookies: *secureCookies,
		HashCode: hash, CheckPassword: syncs.CheckPassword, WriteBack: syncs, CheckFilter: ldap.CheckFilter}
	hs := &http.Server{Handler: srv.Handler(), TLSConfig: tlsConfig,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return usageErrorf("cannot listen on %s: %v", *listen, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		l = tls.NewListener(l, tlsConfig)
		if b, err := os.ReadFile(*certFile); err != nil {
			return err
		} else if c, err := pfx.ParseCertificates(b); err == nil {
			if days, soon := roster.ExpiresSoon(c[0].NotAfter, a.now()); soon {
				a.log.Warn("the HTTPS certificate expires soon", "days_left", days)
			}
		}
	}
	fmt.Fprintf(a.stdout, "roster serve: listening on %s://%s\n", scheme, l.Addr())
	a.log.Info("serving", "address", l.Addr().String(), "tls", tlsConfig != nil)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM or Ctrl-C: finish the requests in flight, then stop.
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	shutdownErr := hs.Shutdown(sctx)
	// Running syncs saw ctx end: they stop, remove nobody, and record
	// themselves as cancelled, before the database closes.
	syncs.Wait()
	if shutdownErr != nil {
		return shutdownErr
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newAdminPassword takes an admin password from ROSTER_ADMIN_PASSWORD
// (or the file ROSTER_ADMIN_PASSWORD_FILE names, or the systemd
// credential admin-password), or makes one (generated is then true: the
// caller shows it once), and hashes it.
func newAdminPassword(a *app) (pw roster.Secret, hash string, generated bool, err error) {
	v, from, err := datadir.Setting(a.getenv, "ROSTER_ADMIN_PASSWORD", "admin-password")
	if err != nil {
		return "", "", false, err
	}
	pw = roster.Secret(v)
	generated = !pw.IsSet()
	if generated {
		if pw, err = pfx.GeneratePassword(nil); err != nil {
			return "", "", false, err
		}
	} else if len([]rune(pw.Reveal())) < rhttp.MinPasswordLength {
		return "", "", false, usageErrorf("the admin password from %s has fewer than %d characters", from, rhttp.MinPasswordLength)
	}
	hash, err = rhttp.HashPassword(pw)
	return pw, hash, generated, err
}

// bootstrapAdmin makes the first admin on the first start: its password
// comes from ROSTER_ADMIN_PASSWORD, or roster makes one and prints it once.
func bootstrapAdmin(ctx context.Context, a *app, db *sqlstore.DB) error {
	n, err := db.AdminCount(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw, hash, generated, err := newAdminPassword(a)
	if err != nil {
		return err
	}
	if _, err := db.CreateAdmin(ctx, "admin", hash); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(a.stdout, "roster serve: created the admin account \"admin\" with the password %s\n", pw.Reveal())
		fmt.Fprintln(a.stdout, "              it is shown this once; sign in and change it")
	} else {
		fmt.Fprintln(a.stdout, "roster serve: created the admin account \"admin\" with the password given (ROSTER_ADMIN_PASSWORD, its _FILE, or the systemd credential admin-password)")
	}
	a.log.Info("admin account created", "name", "admin")
	return nil
}
