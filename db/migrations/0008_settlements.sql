-- A statement that an officer has marked paid: the day's figures as paid,
-- frozen in the same transaction that recorded the payment.
CREATE TABLE settlements (
    merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
    day             TEXT NOT NULL,                 -- Asia/Shanghai date
    redemptions     INTEGER NOT NULL CHECK (redemptions >= 0),
    reversals       INTEGER NOT NULL CHECK (reversals >= 0),
    subsidy_fen     INTEGER NOT NULL CHECK (subsidy_fen >= 0),
    consumption_fen INTEGER NOT NULL CHECK (consumption_fen >= 0),
    paid_at         DATETIME NOT NULL,
    paid_by         INTEGER NOT NULL REFERENCES officers(id),
    PRIMARY KEY (merchant_id, day)
);
