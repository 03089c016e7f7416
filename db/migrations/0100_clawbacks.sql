-- A clawback is a refund that came after its day was paid: the merchant
-- was paid the subsidy of a redemption that no longer stands. The paid
-- statement stays as paid; the clawback is netted against the merchant's
-- next payment from the same fund (batch_id, once netted), so nothing is
-- paid twice and nothing is lost. One per reversed redemption.
CREATE TABLE clawbacks (
    id               INTEGER PRIMARY KEY,
    redemption_id    INTEGER NOT NULL UNIQUE REFERENCES redemptions(id),
    merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
    funding_district TEXT NOT NULL REFERENCES districts(code),
    day              TEXT NOT NULL,                 -- the paid day of the redemption, Asia/Shanghai
    subsidy_fen      INTEGER NOT NULL CHECK (subsidy_fen >= 0),
    consumption_fen  INTEGER NOT NULL CHECK (consumption_fen >= 0),
    created_at       DATETIME NOT NULL,
    batch_id         INTEGER REFERENCES payment_batches(id)
);
CREATE INDEX clawbacks_open ON clawbacks (funding_district, merchant_id) WHERE batch_id IS NULL;
CREATE INDEX clawbacks_by_batch ON clawbacks (batch_id);
-- What a batch netted: its statements' subsidy less these is what the
-- bank transfers.
ALTER TABLE payment_batches ADD COLUMN clawback_fen INTEGER NOT NULL DEFAULT 0 CHECK (clawback_fen >= 0);
