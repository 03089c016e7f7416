-- POS systems call the cashier API with a per-merchant key. Only the key's
-- SHA-256 is stored; each key acts as a cashier account of its own, so
-- redemptions show which terminal made them.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    cashier_id  INTEGER NOT NULL UNIQUE REFERENCES cashiers(id),
    label       TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  DATETIME NOT NULL,
    revoked_at  DATETIME
);
CREATE INDEX api_keys_merchant ON api_keys(merchant_id);
