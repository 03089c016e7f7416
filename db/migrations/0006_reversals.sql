-- foreign_keys: off
-- Redemptions can be reversed (a refund): the row stays, marked reversed,
-- and the voucher may be redeemed again, so "one live redemption per
-- voucher" moves from a UNIQUE column to a partial unique index.
CREATE TABLE redemptions_new (
    id              INTEGER PRIMARY KEY,
    voucher_id      INTEGER NOT NULL REFERENCES vouchers(id),
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id),
    merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
    cashier_id      INTEGER NOT NULL REFERENCES cashiers(id),
    bill_fen        INTEGER NOT NULL CHECK (bill_fen > 0),
    discount_fen    INTEGER NOT NULL CHECK (discount_fen > 0 AND discount_fen <= bill_fen),
    idempotency_key TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    reversed_at     DATETIME,
    reversed_by     INTEGER REFERENCES cashiers(id),
    UNIQUE (merchant_id, idempotency_key),
    CHECK ((reversed_at IS NULL) = (reversed_by IS NULL))
);
INSERT INTO redemptions_new (id, voucher_id, campaign_id, merchant_id, cashier_id, bill_fen, discount_fen, idempotency_key, created_at)
    SELECT id, voucher_id, campaign_id, merchant_id, cashier_id, bill_fen, discount_fen, idempotency_key, created_at FROM redemptions;
DROP TABLE redemptions;
ALTER TABLE redemptions_new RENAME TO redemptions;
CREATE UNIQUE INDEX redemptions_live_voucher ON redemptions(voucher_id) WHERE reversed_at IS NULL;
CREATE INDEX redemptions_campaign ON redemptions(campaign_id, created_at);
CREATE INDEX redemptions_merchant ON redemptions(merchant_id, created_at);

ALTER TABLE tiers ADD COLUMN reversed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN reversed_count INTEGER NOT NULL DEFAULT 0;
