-- foreign_keys: off
-- A resident's phone number is no longer kept in clear: phone_sealed holds
-- it encrypted under a key outside the database, phone_hash a keyed hash
-- (HMAC-SHA256) for sign-in lookups. SQL cannot compute either, so rows
-- that exist now keep their number in `phone` until voucherd's start-up
-- seals them (db.SealResidentPhones); `phone` is NULL from then on.
-- erased_at marks a resident who asked for deletion: the row stays as a
-- tombstone that their vouchers and money records still point at.
CREATE TABLE residents_new (
    id           INTEGER PRIMARY KEY,
    phone        TEXT UNIQUE,   -- legacy clear number, NULL once sealed
    phone_hash   TEXT UNIQUE,   -- HMAC-SHA256 of the number; NULL once erased
    phone_sealed BLOB,          -- the number, encrypted; NULL once erased
    created_at   DATETIME NOT NULL,
    id_hash      TEXT,
    erased_at    DATETIME
);
INSERT INTO residents_new (id, phone, created_at, id_hash) SELECT id, phone, created_at, id_hash FROM residents;
DROP TABLE residents;
ALTER TABLE residents_new RENAME TO residents;
CREATE UNIQUE INDEX residents_id_hash ON residents(id_hash) WHERE id_hash IS NOT NULL;
CREATE INDEX residents_unsealed ON residents(id) WHERE phone IS NOT NULL;

-- Pending sign-in codes are keyed by the phone's keyed hash from now on;
-- codes pending in clear (valid for minutes) are dropped.
DELETE FROM sms_codes;
