-- Lockouts every node shares: an admin's console password, a user's print
-- code or password at terminals. A row is a count of failures and the end
-- of the current lock; a success or an admin deletes it.
CREATE TABLE lockouts (
	key           TEXT PRIMARY KEY,
	subject       TEXT NOT NULL,
	failures      INTEGER NOT NULL,
	first_failure TEXT,
	last_failure  TEXT NOT NULL,
	trips         INTEGER NOT NULL,
	locked_until  TEXT
);
