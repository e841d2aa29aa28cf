// Package doctor walks the chain from roster to a directory, one step at
// a time, and stops at the first that fails: each step passes, warns or
// fails, and a failure says what to fix. It is roster doctor and the
// console's Diagnose button.
//
// For LDAP: the settings, DNS, TCP, the TLS handshake, the certificate
// against every rule, its trust (the CA or pin) and its name, the
// sign-in, the paged search, the users the account can read, and the
// clock against the directory's. For Entra ID through Microsoft Graph:
// the settings, the token host, the token, the roles it carries against
// those roster needs, a users page, a delta page and a groups page.
package doctor

import (
	"context"
	"log/slog"
	"time"

	"github.com/rosterhq/roster"
)

// The statuses, as steps carry them.
const (
	Pass = roster.StepPass
	Warn = roster.StepWarn
	Fail = roster.StepFail
)

// Step is one link of the chain; Report is a diagnosis.
type (
	Step   = roster.DiagnosisStep
	Report = roster.Diagnosis
)

// Doctor diagnoses sources.
type Doctor struct {
	Now func() time.Time
	Log *slog.Logger
}

// chain runs steps in order and stops at the first that fails.
type chain struct {
	r *Report
}

func (c *chain) add(s Step) bool {
	c.r.Steps = append(c.r.Steps, s)
	if s.Status == Fail {
		c.r.OK = false
		return false
	}
	return true
}

// failed is a failed step whose message is err's admin message.
func failed(name string, err error, fix string) Step {
	return Step{Name: name, Status: Fail, Detail: roster.ErrorMessage(err), Fix: fix}
}

// Diagnose walks src's chain.
func (d Doctor) Diagnose(ctx context.Context, src *roster.Source) *Report {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	r := &Report{Source: src.Name, Type: string(src.Type), OK: true}
	c := &chain{r}
	if err := src.Validate(); err != nil {
		c.add(failed("settings", err, "correct the source's settings"))
		return r
	}
	if !c.add(Step{Name: "settings", Status: Pass, Detail: src.Type.Label()}) {
		return r
	}
	if src.Type == roster.EntraID {
		d.graph(ctx, src, c)
	} else {
		d.ldap(ctx, src, c)
	}
	return r
}
