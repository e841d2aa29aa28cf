-- roster serve looks for runs left "running" by a dead node at every
-- scheduler check (30 s): a partial index keeps that look from reading
-- the whole history.
CREATE INDEX runs_running ON runs (source_id) WHERE status = 'running';
