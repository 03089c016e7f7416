-- Each audit row records the hash function that chains it: SHA-256 by
-- default, SM3 in the commercial cryptography mode. Rows written before
-- were all SHA-256. With the function on the row, a log that crosses a
-- change of mode still verifies from its first row to its last.
ALTER TABLE audit_log ADD COLUMN hash_alg TEXT NOT NULL DEFAULT 'sha256'
    CHECK (hash_alg IN ('sha256', 'sm3'));
