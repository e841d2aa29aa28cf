package roster

import (
	"fmt"
	"time"
)

// CertificateWarnDays is how close to its expiry a certificate roster
// relies on is warned about: a directory's (in the console, roster
// connect, a connection test, roster cert probe) and roster's own HTTPS
// certificate. Thirty days leave an admin time to make a certificate,
// upload it to Entra DS and trust it in roster.
const CertificateWarnDays = 30

// DaysLeft counts the UTC calendar days from now to notAfter: 0 on the
// last day, negative once it has passed. Calendar days, so that a
// certificate valid until tonight shows 0, not "0.4 days", whatever the
// hour; and no time.Duration, whose ceiling (292 years) a far-future
// certificate passes.
func DaysLeft(notAfter, now time.Time) int {
	return dayNumber(notAfter) - dayNumber(now)
}

// dayNumber numbers the UTC calendar day of t, from 1970-01-01.
func dayNumber(t time.Time) int {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return int(d)
}

// ExpiresSoon reports whether a certificate valid until notAfter has
// fewer than CertificateWarnDays days left at now (an expired one
// included), and how many it has.
func ExpiresSoon(notAfter, now time.Time) (daysLeft int, soon bool) {
	daysLeft = DaysLeft(notAfter, now)
	return daysLeft, daysLeft < CertificateWarnDays
}

// DirectoryCertificateWarning is the warning about the certificate of a
// directory of type t that expires soon, in the same words wherever it
// shows, with where such a directory renews it; "" when it does not
// expire soon (or notAfter is zero: never seen).
func DirectoryCertificateWarning(t DirectoryType, notAfter, now time.Time) string {
	days, soon := ExpiresSoon(notAfter, now)
	if notAfter.IsZero() || !soon {
		return ""
	}
	renew := "renew it on the directory's servers"
	switch t {
	case EntraDS:
		renew = "renew it (Entra DS: Secure LDAP, then Change certificate)"
	case ActiveDirectory:
		renew = "renew it on each domain controller (its LDAPS certificate, in the computer's or the NTDS service's store)"
	case OpenLDAP:
		renew = "renew it on the OpenLDAP servers (the files olcTLSCertificateFile and olcTLSCertificateKeyFile name)"
	}
	if days < 0 {
		return fmt.Sprintf("the directory's certificate expired on %s: secure LDAP refuses connections; %s", notAfter.Format("2006-01-02"), renew)
	}
	return fmt.Sprintf("the directory's certificate expires in %d days, on %s; %s", days, notAfter.Format("2006-01-02"), renew)
}
