-- Sources managed in the console: their settings as JSON (without the
-- password), and the bind password sealed with AES-GCM under a key kept
-- outside the database. A deleted source keeps its row, so its users and
-- runs stay readable; its settings and password are erased.
ALTER TABLE sources ADD COLUMN settings TEXT;
ALTER TABLE sources ADD COLUMN password_sealed BLOB;
ALTER TABLE sources ADD COLUMN updated_at TEXT;
