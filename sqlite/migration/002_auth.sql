-- Console admins, their sessions, and API tokens. Passwords are bcrypt
-- hashes; session IDs and token secrets are stored as SHA-256 hashes, so
-- a copy of the database opens no session and no API.
CREATE TABLE admins (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);

CREATE TABLE sessions (
	id_hash    TEXT PRIMARY KEY,
	admin_id   INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	secret_hash  TEXT NOT NULL UNIQUE,
	scope        TEXT NOT NULL CHECK (scope IN ('read', 'admin')),
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);
