-- SQLite's step 014 makes the unique anchor of a source's users and the
-- unique card number indexes of their own, which a first sync into an
-- empty user base builds after writing its users. Nothing changes here
-- (step 015 does it on PostgreSQL, where no table needs making again);
-- the step exists so that both stores list the same steps.
SELECT 1;
