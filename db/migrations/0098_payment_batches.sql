-- A payment batch is one instruction to the bank: the statements an
-- officer marked paid together, from one district's fund, in one
-- transaction. Its figures are the sums of its statements' frozen
-- figures, kept so that the payment file and the audit record can be
-- checked against them. Statements paid before batches existed keep a
-- NULL batch.
CREATE TABLE payment_batches (
    id               INTEGER PRIMARY KEY,
    funding_district TEXT NOT NULL REFERENCES districts(code),
    created_at       DATETIME NOT NULL,
    created_by       INTEGER NOT NULL REFERENCES officers(id),
    statements       INTEGER NOT NULL CHECK (statements > 0),
    merchants        INTEGER NOT NULL CHECK (merchants > 0),
    subsidy_fen      INTEGER NOT NULL CHECK (subsidy_fen >= 0),
    from_day         TEXT NOT NULL,
    to_day           TEXT NOT NULL
);
ALTER TABLE settlements ADD COLUMN batch_id INTEGER REFERENCES payment_batches(id);
CREATE INDEX settlements_by_batch ON settlements (batch_id);
CREATE INDEX payment_batches_by_fund ON payment_batches (funding_district, id);
