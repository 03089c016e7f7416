-- Lottery drops (摇号): residents register during a window and the stock
-- is allocated among them at a draw anyone can check. When the campaign
-- is set to draw, the product commits to a secret seed by publishing its
-- SHA-256 (commitment); the seed stays sealed until the draw, which
-- publishes it with the ordered registrations. lottery_closes_at on the
-- campaign ends registration; NULL is first come, first served.
ALTER TABLE campaigns ADD COLUMN lottery_closes_at DATETIME;
CREATE TABLE lotteries (
    campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id),
    commitment  TEXT NOT NULL,
    seed_sealed BLOB NOT NULL,
    seed        TEXT,                      -- published at the draw
    draw_json   TEXT,                      -- the draw as published: each tier's stock, registrations and winners
    created_at  DATETIME NOT NULL,
    drawn_at    DATETIME,
    drawn_by    INTEGER REFERENCES officers(id),
    CHECK ((drawn_at IS NULL) = (seed IS NULL) AND (drawn_at IS NULL) = (draw_json IS NULL))
);
-- One registration per resident and campaign (a resident is one real-name
-- ID where the campaign asks for it: an ID binds to one resident only).
CREATE TABLE lottery_registrations (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    tier_id       INTEGER NOT NULL REFERENCES tiers(id),
    resident_id   INTEGER NOT NULL REFERENCES residents(id),
    district_code TEXT NOT NULL DEFAULT '',  -- the resident's district, as given: the fairness figures
    registered_at DATETIME NOT NULL,
    outcome       TEXT CHECK (outcome IN ('won', 'lost')),
    voucher_id    INTEGER REFERENCES vouchers(id),
    UNIQUE (campaign_id, resident_id)
);
CREATE INDEX lottery_registrations_by_tier ON lottery_registrations (campaign_id, tier_id, id);
