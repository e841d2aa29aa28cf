-- SQLite's step 014 makes the unique anchor of a source's users and the
-- unique card number indexes of their own, which a first sync into an
-- empty user base builds after writing its users. PostgreSQL keeps them
-- as they are: several nodes may write one user base at once, and each
-- relies on them while it writes. Nothing changes here; the step exists
-- so that both stores list the same steps.
SELECT 1;
