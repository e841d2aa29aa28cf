// Package datadir keeps what roster holds in its data folder besides the
// user base: the lock that lets one sync at a time work on the folder,
// and the key files (print-code.key, secret.key) without which stored
// print codes and bind passwords cannot be checked or opened.
//
// The folder is the unit an admin backs up and restores; its files are
// private to roster's user (0600), and every file is written whole or not
// at all (WriteFile), so that a crash never leaves half a key.
package datadir
