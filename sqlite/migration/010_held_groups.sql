-- A held run records how many group and membership removals it held, so
-- that an approval lets go past the threshold no more than were held.
ALTER TABLE runs ADD COLUMN held_groups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN held_memberships INTEGER NOT NULL DEFAULT 0;
