-- Where the next incremental sync of a source resumes: saved only by a
-- run that succeeded. A source has at most one.
CREATE TABLE sync_cursors (
	source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
	kind      TEXT NOT NULL,
	server    TEXT NOT NULL,
	value     TEXT NOT NULL,
	scope     TEXT NOT NULL,
	saved_at  TEXT NOT NULL
);
