-- roster's first schema. Times are UTC text in a fixed-width RFC 3339 form
-- (see db.go), so they sort as text; NULL stands for the zero time.

CREATE TABLE sources (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);

-- source_id is NULL for users made by hand in roster; syncs never see them.
-- dn_key is dn lower-cased in Go (Unicode, unlike SQLite's lower()), the
-- key that group memberships join on.
CREATE TABLE users (
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
	extra           TEXT, -- JSON object of string arrays; NULL when empty
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	UNIQUE (source_id, anchor)
);
-- login first: serves LoginOwners (login IN ... AND source_id = ?) and
-- UserByLogin (login = ?, any source) with one index.
CREATE INDEX users_login_source ON users (login, source_id);
CREATE INDEX users_dn_key ON users (dn_key);
-- An index ends with the rowid: this one lists a source's users in ID
-- order, which Users pages through.
CREATE INDEX users_source ON users (source_id);

-- Former logins, oldest first (by id).
CREATE TABLE user_aliases (
	id      INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	login   TEXT NOT NULL,
	UNIQUE (user_id, login)
);
CREATE INDEX user_aliases_login ON user_aliases (login);

-- A card number belongs to one user at most, whatever its origin. Cards
-- keep their order (primary first) by id.
CREATE TABLE cards (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	number     TEXT NOT NULL UNIQUE,
	kind       TEXT NOT NULL DEFAULT '',
	origin     TEXT NOT NULL CHECK (origin IN ('directory', 'manual')),
	expires_at TEXT
);
CREATE INDEX cards_user ON cards (user_id, origin);

CREATE TABLE groups (
	id        INTEGER PRIMARY KEY,
	source_id INTEGER NOT NULL REFERENCES sources (id),
	anchor    TEXT NOT NULL,
	dn        TEXT NOT NULL DEFAULT '',
	name      TEXT NOT NULL DEFAULT '',
	UNIQUE (source_id, anchor)
);

-- Members by lower-cased user DN, joined to users.dn_key: a member that is
-- not (yet) a stored user is kept all the same.
CREATE TABLE group_members (
	group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_dn  TEXT NOT NULL,
	PRIMARY KEY (group_id, user_dn)
) WITHOUT ROWID;
CREATE INDEX group_members_user_dn ON group_members (user_dn);

CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	source_id   INTEGER NOT NULL REFERENCES sources (id),
	mode        TEXT NOT NULL,
	status      TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	finished_at TEXT,
	seen        INTEGER NOT NULL DEFAULT 0,
	created     INTEGER NOT NULL DEFAULT 0,
	updated     INTEGER NOT NULL DEFAULT 0,
	renamed     INTEGER NOT NULL DEFAULT 0,
	disabled    INTEGER NOT NULL DEFAULT 0,
	reenabled   INTEGER NOT NULL DEFAULT 0,
	deleted     INTEGER NOT NULL DEFAULT 0,
	skipped     INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	held        INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	notes       TEXT -- JSON array of strings; NULL when empty
);
CREATE INDEX runs_source_status ON runs (source_id, status);

CREATE TABLE run_entry_errors (
	id      INTEGER PRIMARY KEY,
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	dn      TEXT NOT NULL DEFAULT '',
	anchor  TEXT NOT NULL DEFAULT '',
	message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX run_entry_errors_run ON run_entry_errors (run_id);

-- No foreign key to users: the record of a hold outlives the users it held.
CREATE TABLE run_held_users (
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL,
	PRIMARY KEY (run_id, user_id)
) WITHOUT ROWID;
