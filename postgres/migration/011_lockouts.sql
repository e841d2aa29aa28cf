-- See sqlite/migration/011_lockouts.sql.
CREATE TABLE lockouts (
	key           TEXT PRIMARY KEY,
	subject       TEXT NOT NULL,
	failures      INTEGER NOT NULL,
	first_failure TIMESTAMPTZ,
	last_failure  TIMESTAMPTZ NOT NULL,
	trips         INTEGER NOT NULL,
	locked_until  TIMESTAMPTZ
);
