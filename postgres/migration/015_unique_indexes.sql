-- The unique anchor of a source's users and the unique card number become
-- indexes of their own, as SQLite's step 014 made them there, under the
-- same names: a first sync into an empty user base builds them after
-- writing its users (sqlstore.DeferIndexes). Building a unique index lets
-- the table's readers read, the terminals of every node among them, where
-- adding a unique constraint to a table takes it from them. The rules do
-- not change.
--
-- Dropping a constraint takes its table from readers too: the step takes
-- both tables so at once, rather than build the indexes first and then
-- wait for the readers of a table it holds, which a reader that then
-- writes would wait for in turn (a deadlock). Readers wait for the step:
-- 0.4 s at 100,000 users. IF EXISTS and IF NOT EXISTS let it run on a
-- schema that a store opened at an older step built the indexes of (an
-- upgrade in stages, as the tests make).
LOCK TABLE users, cards IN ACCESS EXCLUSIVE MODE;
CREATE UNIQUE INDEX IF NOT EXISTS users_source_anchor ON users (source_id, anchor);
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_source_id_anchor_key;
CREATE UNIQUE INDEX IF NOT EXISTS cards_number ON cards (number);
ALTER TABLE cards DROP CONSTRAINT IF EXISTS cards_number_key;
