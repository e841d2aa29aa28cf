-- Which roster node may sync a source, and until when; see
-- sqlite/migration/006_leases.sql and sqlstore/leases.go.
CREATE TABLE sync_leases (
	source_id   BIGINT PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
	holder      TEXT NOT NULL,
	acquired_at TIMESTAMPTZ NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL
);
