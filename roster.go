// Package roster holds the domain of roster: the users and groups a print
// server needs, the directory sources they come from, the runs that keep
// them in step, and the errors an admin sees.
//
// This package does no I/O and imports only the standard library. The
// directory client (ldap), the stores and the HTTP server live in their own
// packages and speak in these types; cmd/roster wires them together.
package roster
