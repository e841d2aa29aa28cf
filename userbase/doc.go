// Package userbase finds and opens the user base a command names, and
// backs it up and restores it together with the data folder's keys.
//
// A user base lives in one of two places: a PostgreSQL database that
// several roster nodes share (a postgres:// URL), or an SQLite file,
// roster.db in the data folder by default. The data folder holds the keys
// (package datadir) whichever it is. Every command that touches the user
// base goes through Locate, so that -db, $ROSTER_DB and the data folder
// mean the same everywhere.
//
// The package is the one place that knows both stores: cmd/roster wires
// it, and nothing below it imports it.
package userbase
