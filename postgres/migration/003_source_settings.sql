-- Sources managed in the console; see sqlite/migration/003_source_settings.sql.
ALTER TABLE sources ADD COLUMN settings TEXT;
ALTER TABLE sources ADD COLUMN password_sealed BYTEA;
ALTER TABLE sources ADD COLUMN updated_at TIMESTAMPTZ;
