-- roster: foreign keys off
--
-- The two rules a sync writes under most, one anchor a user of a source
-- and one holder a card number, become indexes of their own, named, where
-- they were part of their tables (UNIQUE in CREATE TABLE, an index SQLite
-- names itself and no statement can drop). A first sync into an empty
-- user base can then drop them and build them once its users are written
-- (sqlstore.DeferIndexes): at 1,000,000 users with anchors and card
-- numbers in no order, each write batch otherwise dirties a page of each
-- index an entry, against a cache of a few MiB.
--
-- SQLite cannot drop a table's own UNIQUE: the tables are made again,
-- their rows copied with their IDs. The first line above makes the
-- migration run with foreign keys off, as SQLite's own procedure for this
-- asks (sqlstore.Migrate): dropping the old users table would otherwise
-- delete every card and former login along with it (ON DELETE CASCADE).
-- The keys are checked before the step commits.

-- A guard, should the line above go unread (a checkout that ended it
-- with CR LF, say): with the keys on, the step stops here, before the
-- drop that would empty the children.
CREATE TEMP TABLE step_014_runs_with_foreign_keys_off (foreign_keys INTEGER CHECK (foreign_keys = 0));
INSERT INTO step_014_runs_with_foreign_keys_off SELECT foreign_keys FROM pragma_foreign_keys;
DROP TABLE step_014_runs_with_foreign_keys_off;

CREATE TABLE users_new (
	id              INTEGER PRIMARY KEY,
	source_id       INTEGER REFERENCES sources (id),
	anchor          TEXT NOT NULL DEFAULT '',
	dn              TEXT NOT NULL DEFAULT '',
	dn_key          TEXT NOT NULL DEFAULT '',
	login           TEXT NOT NULL,
	name            TEXT NOT NULL DEFAULT '',
	email           TEXT NOT NULL DEFAULT '',
	department      TEXT NOT NULL DEFAULT '',
	cost_center     TEXT NOT NULL DEFAULT '',
	print_code_hash TEXT NOT NULL DEFAULT '',
	disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	disabled_reason TEXT NOT NULL DEFAULT '',
	missing_since   TEXT,
	seen_at         TEXT,
	extra           TEXT,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	fingerprint     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_new (id, source_id, anchor, dn, dn_key, login, name, email, department,
	cost_center, print_code_hash, disabled, disabled_reason, missing_since, seen_at, extra,
	created_at, updated_at, fingerprint)
SELECT id, source_id, anchor, dn, dn_key, login, name, email, department,
	cost_center, print_code_hash, disabled, disabled_reason, missing_since, seen_at, extra,
	created_at, updated_at, fingerprint FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
-- One anchor a user of a source. Users made by hand have no source
-- (NULL), and NULLs never collide: the index binds synced users only.
CREATE UNIQUE INDEX users_source_anchor ON users (source_id, anchor);
CREATE INDEX users_login_source ON users (login, source_id);
CREATE INDEX users_dn_key ON users (dn_key);
CREATE INDEX users_source ON users (source_id);
CREATE INDEX users_print_code ON users (print_code_hash) WHERE print_code_hash <> '';

CREATE TABLE cards_new (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	number     TEXT NOT NULL,
	kind       TEXT NOT NULL DEFAULT '',
	origin     TEXT NOT NULL CHECK (origin IN ('directory', 'manual')),
	expires_at TEXT
);
INSERT INTO cards_new (id, user_id, number, kind, origin, expires_at)
SELECT id, user_id, number, kind, origin, expires_at FROM cards;
DROP TABLE cards;
ALTER TABLE cards_new RENAME TO cards;
-- A card number belongs to one user at most, whatever its origin.
CREATE UNIQUE INDEX cards_number ON cards (number);
CREATE INDEX cards_user ON cards (user_id, origin);
