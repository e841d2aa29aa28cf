-- DN keys (users.dn_key, group_members.user_dn) become roster.DNKey: a DN
-- read as RFC 4514 writes it, with attribute types and values folded,
-- escapes undone (\, and \2C alike) and the spaces around separators
-- dropped, instead of the DN in lower case. The keys are computed in Go:
-- this step's Go part (sqlstore.RekeyDNs) rewrites the stored ones, in
-- the step's transaction.
SELECT 1;
