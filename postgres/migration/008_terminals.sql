-- See sqlite/migration/008_terminals.sql.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check CHECK (scope IN ('read', 'admin', 'terminal'));
CREATE INDEX users_print_code ON users (print_code_hash) WHERE print_code_hash <> '';
