-- See sqlite/migration/009_dn_keys.sql.
SELECT 1;
