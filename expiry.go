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

// DirectoryCertificateWarning is the warning about a directory's
// certificate that expires soon, in the same words wherever it shows;
// "" when it does not expire soon (or notAfter is zero: never seen).
func DirectoryCertificateWarning(notAfter, now time.Time) string {
	days, soon := ExpiresSoon(notAfter, now)
	switch {
	case notAfter.IsZero() || !soon:
		return ""
	case days < 0:
		return fmt.Sprintf("the directory's certificate expired on %s: secure LDAP refuses connections; renew it (Entra DS: Secure LDAP, then Change certificate)", notAfter.Format("2006-01-02"))
	}
	return fmt.Sprintf("the directory's certificate expires in %d days, on %s; renew it (Entra DS: Secure LDAP, then Change certificate)", days, notAfter.Format("2006-01-02"))
}
