-- When the directory's certificate expires, as last seen.
ALTER TABLE sources ADD COLUMN certificate_not_after TIMESTAMPTZ;
