-- A source's settings column is written in roster's one written format
-- (roster.SourceSettings, with JSON names such as "tls" and "removal"),
-- no longer under Go's field names ("TLSMode", "Removal"). The rows are
-- rewritten by the step's Go part (sqlstore: renameSettings); this SQL
-- only records the step.
SELECT 1;
