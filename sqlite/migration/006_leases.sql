-- Which roster process may sync a source, and until when. A holder renews
-- its lease while its run goes on; when it dies, the lease expires and
-- another node takes over. See sqlstore/leases.go.
CREATE TABLE sync_leases (
	source_id   INTEGER PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
	holder      TEXT NOT NULL,
	acquired_at TEXT NOT NULL,
	expires_at  TEXT NOT NULL
);
