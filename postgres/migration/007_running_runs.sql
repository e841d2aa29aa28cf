-- See sqlite/migration/007_running_runs.sql.
CREATE INDEX runs_running ON runs (source_id) WHERE status = 'running';
