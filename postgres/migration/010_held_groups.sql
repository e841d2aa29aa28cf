-- See sqlite/migration/010_held_groups.sql.
ALTER TABLE runs ADD COLUMN held_groups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN held_memberships INTEGER NOT NULL DEFAULT 0;
