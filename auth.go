package roster

import "time"

// Admin is a person who signs in to roster's console.
type Admin struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// Scope is what an API token may do.
type Scope string

const (
	ScopeRead  Scope = "read"  // GET requests only
	ScopeAdmin Scope = "admin" // everything an admin may do
	// ScopeTerminal is for print terminals and release stations: they
	// may identify users (by card, print code, or password) and nothing
	// else.
	ScopeTerminal Scope = "terminal"
)

// Token is an API token for scripts and print terminals. Only a hash of
// its secret is stored: the secret is shown once, when it is made.
type Token struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Scope      Scope     `json:"scope"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}
