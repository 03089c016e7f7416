-- A hold stops a fund's payments to a merchant pending review (signals of
-- cash-out, a complaint): its unpaid statements are listed but not paid
-- until an officer releases the hold. A merchant has at most one open hold
-- per fund; released holds stay as the record of what was done and why.
CREATE TABLE settlement_holds (
    id               INTEGER PRIMARY KEY,
    merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
    funding_district TEXT NOT NULL REFERENCES districts(code),
    held_at          DATETIME NOT NULL,
    held_by          INTEGER NOT NULL REFERENCES officers(id),
    reason           TEXT NOT NULL CHECK (length(reason) > 0),
    released_at      DATETIME,
    released_by      INTEGER REFERENCES officers(id),
    release_note     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX settlement_holds_open ON settlement_holds (merchant_id, funding_district) WHERE released_at IS NULL;
