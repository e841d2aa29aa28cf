-- Where the next incremental sync of a source resumes; see
-- sqlite/migration/005_cursors.sql.
CREATE TABLE sync_cursors (
	source_id BIGINT PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
	kind      TEXT NOT NULL,
	server    TEXT NOT NULL,
	value     TEXT NOT NULL,
	scope     TEXT NOT NULL,
	saved_at  TIMESTAMPTZ NOT NULL
);
