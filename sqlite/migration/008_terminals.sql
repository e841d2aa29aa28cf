-- Print terminals: API tokens of scope "terminal", which may only identify
-- users; and print codes looked up by their keyed hash. SQLite cannot
-- change a CHECK constraint in place: the token table is rebuilt.
CREATE TABLE api_tokens_new (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL,
	secret_hash  TEXT NOT NULL UNIQUE,
	scope        TEXT NOT NULL CHECK (scope IN ('read', 'admin', 'terminal')),
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);
INSERT INTO api_tokens_new (id, name, secret_hash, scope, created_at, last_used_at, revoked_at)
	SELECT id, name, secret_hash, scope, created_at, last_used_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;

CREATE INDEX users_print_code ON users (print_code_hash) WHERE print_code_hash <> '';
