package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/ldap"
	"github.com/rosterhq/roster/pfx"
)

// maxSkew is the clock difference beyond which the clock step warns:
// certificates' and accounts' expiry are judged by roster's clock.
const maxSkew = 5 * time.Minute

// ldap walks an LDAP source's chain.
func (d Doctor) ldap(ctx context.Context, src *roster.Source, c *chain) {
	host, port, _ := src.Endpoint()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	entraDS := src.Type == roster.EntraDS
	if _, err := netip.ParseAddr(host); err != nil {
		if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
			c.add(Step{Name: "dns", Status: Fail, Detail: fmt.Sprintf("the name %s does not resolve: %v", host, err),
				Fix: "check this machine's DNS, or give the directory's IP address (Entra DS: the Secure LDAP external IP address on the managed domain's Properties)"})
			return
		}
		c.add(Step{Name: "dns", Status: Pass, Detail: host + " resolves"})
	}
	timeout := src.ConnectTimeout
	if timeout <= 0 {
		timeout = roster.DefaultConnectTimeout
	}
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		c.add(tcpFailure(addr, err, entraDS, src.Mode()))
		return
	}
	conn.Close()
	c.add(Step{Name: "tcp", Status: Pass, Detail: addr + " accepts connections"})
	if src.Mode() == roster.Plain {
		c.add(Step{Name: "tls", Status: Warn, Detail: "TLS is off: the password crosses the network in clear", Fix: "use LDAPS (636) or StartTLS (389)"})
	} else if !d.tls(ctx, src, c, entraDS) {
		return
	}
	dl := ldap.Dialer{Now: d.Now}
	lc, err := dl.SignIn(ctx, src)
	if err != nil {
		c.add(failed("sign-in", err, ""))
		return
	}
	defer lc.Close()
	c.add(Step{Name: "sign-in", Status: Pass, Detail: "signed in as " + src.Login})
	dse, err := lc.RootDSE(ctx)
	if err != nil {
		c.add(failed("directory", err, "check that the account may read the root DSE"))
		return
	}
	if !dse.SupportsPaging {
		c.add(Step{Name: "paging", Status: Warn, Detail: "the directory does not announce paged results", Fix: "a directory above its size limit then fails the read; enable the paged results control"})
	} else {
		c.add(Step{Name: "paging", Status: Pass, Detail: dse.Vendor + " announces paged results"})
	}
	sv, err := dl.Survey(ctx, src, d.Log)
	if err != nil {
		fix := ""
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			// A base the account may not read looks missing to it.
			fix = "check the base DN; if it is right, the account lacks read rights on it: give it read access to the users (on OpenLDAP an access rule, on AD Authenticated Users or Pre-Windows 2000 Compatible Access)"
		}
		c.add(failed("users", err, fix))
		return
	}
	if sv.Users <= 1 {
		// One user is the account itself, which any account may read:
		// a directory of one person is no print site's.
		c.add(Step{Name: "users", Status: Fail, Detail: fmt.Sprintf("the account reads %d user under %s: at most itself", sv.Users, strings.Join(src.SearchBases(), "; ")),
			Fix: "give the account read rights on the users (on OpenLDAP, an access rule that lets it read the people; on AD, Authenticated Users or Pre-Windows 2000 Compatible Access may read them), and check the base DN and the user filter"})
		return
	}
	detail := fmt.Sprintf("%d users", sv.Users)
	if sv.Disabled != nil {
		detail += fmt.Sprintf(" (%d disabled)", *sv.Disabled)
	}
	c.add(Step{Name: "users", Status: Pass, Detail: detail})
	if dse.IsAD {
		c.add(Step{Name: "ranges", Status: Pass, Detail: "Active Directory sends member lists above 1,500 values in ranges, which roster reads"})
		c.add(d.deletedObjects(ctx, lc, dse.DefaultNamingCtx))
		c.add(d.clock(ctx, lc))
	}
}

// deletedObjects says whether the account sees AD's Deleted Objects,
// which an incremental run reads to find who left.
func (d Doctor) deletedObjects(ctx context.Context, lc *ldap.Conn, nc string) Step {
	seen := 0
	_, err := lc.Search(ctx, ldap.SearchRequest{BaseDN: "CN=Deleted Objects," + nc, Scope: ldap.ScopeBase,
		Filter: "(objectClass=*)", Attributes: []string{"objectGUID"}, ShowDeleted: true},
		func(*ldap.Entry) error { seen++; return nil })
	if code := roster.ErrorCode(err); err != nil && code != roster.ENOTFOUND && code != roster.EFORBIDDEN {
		// Not a matter of rights: a cut, a timeout, a refusal to say.
		return Step{Name: "deleted", Status: Warn, Detail: "the Deleted Objects container could not be read: " + roster.ErrorMessage(err),
			Fix: "run the doctor again; if it repeats, incremental runs cannot tell who left, and leavers wait for the next full sync"}
	}
	if err != nil || seen == 0 {
		return Step{Name: "deleted", Status: Warn, Detail: "the account cannot see the Deleted Objects container: incremental runs cannot tell who left, and leavers wait for the next full sync",
			Fix: "let the account list the container (dsacls \"CN=Deleted Objects," + nc + "\" /takeownership, then /G <account>:LCRP), or rely on the scheduled full syncs"}
	}
	return Step{Name: "deleted", Status: Pass, Detail: "the account sees the Deleted Objects container: incremental runs find who left"}
}

// tcpFailure says why a TCP connection failed, and what to do.
func tcpFailure(addr string, err error, entraDS bool, mode roster.TLSMode) Step {
	s := Step{Name: "tcp", Status: Fail, Detail: fmt.Sprintf("cannot connect to %s: %v", addr, err)}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout() && entraDS:
		s.Fix = "no answer: in the managed domain's network security group, add an inbound rule allowing TCP 636 from this machine's public address (for example priority 401, AllowLDAPS), and turn on Secure LDAP with access over the internet"
	case errors.As(err, &ne) && ne.Timeout():
		s.Fix = "no answer: a firewall drops the packets; allow this machine to reach " + addr
	case errors.Is(err, syscall.ECONNREFUSED) && mode == roster.LDAPS:
		s.Fix = "nothing listens there: LDAPS is port 636; for StartTLS use port 389 and the StartTLS mode; on Entra DS, turn on Secure LDAP"
	case errors.Is(err, syscall.ECONNREFUSED):
		s.Fix = "nothing listens there: StartTLS is port 389, LDAPS 636"
	default:
		s.Fix = "check the address and this machine's network"
	}
	return s
}

// tls probes the TLS endpoint and checks what it shows: the handshake,
// the certificate's rules (Entra DS's, or its expiry elsewhere), its
// trust and its name.
func (d Doctor) tls(ctx context.Context, src *roster.Source, c *chain, entraDS bool) bool {
	probe, err := ldap.Dialer{Now: d.Now}.Probe(ctx, src)
	if err != nil {
		return c.add(failed("tls", err, ""))
	}
	c.add(Step{Name: "tls", Status: Pass, Detail: tls.VersionName(probe.TLSVersion) + " handshake"})
	if len(probe.Chain) > 0 {
		// A certificate rule that fails is reported, and the walk goes on
		// to trust and name: they say whether roster connects at all,
		// which the admin needs to know before replacing a certificate.
		c.add(d.certificate(src, probe.Chain, entraDS))
	}
	if probe.Problem != nil {
		return c.add(failed("trust", probe.Problem, ""))
	}
	by := map[string]string{"chain": "the trusted CAs", "pin": "the pinned fingerprint"}[probe.Verified]
	c.add(Step{Name: "trust", Status: Pass, Detail: "the certificate is verified against " + by})
	name := Step{Name: "name", Status: Pass, Detail: "the certificate carries " + probe.ServerName}
	if host, _, _ := src.Endpoint(); probe.ServerName != host {
		name.Detail += ", checked in place of the address " + host
	}
	return c.add(name)
}

// certificate checks the certificate the directory showed: on Entra DS
// against every rule of the upload, elsewhere its expiry.
func (d Doctor) certificate(src *roster.Source, chain []*x509.Certificate, entraDS bool) Step {
	now := d.Now()
	if entraDS {
		rep := pfx.CheckChain(chain, pfx.Options{Domain: src.Domain, Now: now})
		for _, st := range []pfx.Status{pfx.Fail, pfx.Warn} {
			for _, res := range rep.Results {
				if res.Status == st {
					status := Warn
					if st == pfx.Fail {
						status = Fail
					}
					return Step{Name: "certificate", Status: status, Detail: res.Rule + " " + res.Title + ": " + res.Message, Fix: res.Fix}
				}
			}
		}
		return Step{Name: "certificate", Status: Pass, Detail: fmt.Sprintf("every Entra DS rule passes; %d days left", pfx.DaysLeft(chain[0], now))}
	}
	// The expiry warning every other place gives (roster.ExpiresSoon).
	if w := roster.DirectoryCertificateWarning(src.Type, chain[0].NotAfter, now); w != "" {
		fix := "renew the directory's certificate before it expires: syncs then stop"
		if !chain[0].NotAfter.After(now) {
			fix = "renew the directory's certificate: syncs stop until then"
		}
		return Step{Name: "certificate", Status: Warn, Detail: w, Fix: fix}
	}
	return Step{Name: "certificate", Status: Pass, Detail: fmt.Sprintf("%d days left", pfx.DaysLeft(chain[0], now))}
}

// clock compares roster's clock with the directory's (AD's rootDSE
// currentTime).
func (d Doctor) clock(ctx context.Context, lc *ldap.Conn) Step {
	e, err := lc.Get(ctx, "", "currentTime")
	if err != nil || e == nil {
		return Step{Name: "clock", Status: Warn, Detail: "the directory's time cannot be read"}
	}
	t, err := time.Parse("20060102150405.0Z", e.Value("currentTime"))
	if err != nil {
		return Step{Name: "clock", Status: Warn, Detail: "the directory's time cannot be read: " + e.Value("currentTime")}
	}
	skew := d.Now().Sub(t).Round(time.Second)
	if skew < -maxSkew || skew > maxSkew {
		return Step{Name: "clock", Status: Warn, Detail: fmt.Sprintf("roster's clock is %s off the directory's", skew),
			Fix: "set this machine's clock (NTP): certificates and account expiry are judged by it"}
	}
	return Step{Name: "clock", Status: Pass, Detail: fmt.Sprintf("within %s of the directory's", skew.Abs()+time.Second)}
}
