-- When the directory's certificate expires, as last seen by a connection
-- test or a sync: for the console's warning and the metrics.
ALTER TABLE sources ADD COLUMN certificate_not_after TEXT;
