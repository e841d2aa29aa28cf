-- PostgreSQL's step 015 makes its unique anchor of a source's users and
-- its unique card number indexes of their own, as step 014 made them
-- here. Nothing changes here; the step exists so that both stores list
-- the same steps.
SELECT 1;
