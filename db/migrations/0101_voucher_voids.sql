-- Voiding a voucher that signals show was obtained to be cashed out (a
-- bulk of claims by one device, say): one officer asks, with a reason, and
-- a second decides. Approved, the voucher is voided in the decision's
-- transaction: voided_at and the reason on the voucher, and lapsed_at, so
-- that it can no longer be redeemed and its face value is freed from the
-- committed budget as an expired one's is (it is not recycled). kid and
-- rid are what /.well-known/revoked.json publishes for offline verifiers:
-- the key that signed the voucher and a hash of its code, never the code.
CREATE TABLE voucher_voids (
    id            INTEGER PRIMARY KEY,
    voucher_id    INTEGER NOT NULL REFERENCES vouchers(id),
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    district_code TEXT NOT NULL REFERENCES districts(code),
    kid           TEXT NOT NULL,
    rid           TEXT NOT NULL,
    requested_by  INTEGER NOT NULL REFERENCES officers(id),
    requested_at  DATETIME NOT NULL,
    reason        TEXT NOT NULL CHECK (length(reason) > 0),
    decided_by    INTEGER REFERENCES officers(id),
    decided_at    DATETIME,
    approved      INTEGER CHECK (approved IN (0, 1)),
    decision_note TEXT NOT NULL DEFAULT '',
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
-- One request open or approved per voucher; a rejected one leaves room
-- for another, should new facts come.
CREATE UNIQUE INDEX voucher_voids_open ON voucher_voids (voucher_id) WHERE approved IS NULL OR approved = 1;
CREATE INDEX voucher_voids_pending ON voucher_voids (district_code) WHERE decided_at IS NULL;
ALTER TABLE vouchers ADD COLUMN voided_at DATETIME;
ALTER TABLE vouchers ADD COLUMN void_reason TEXT NOT NULL DEFAULT '';
