-- The evaluation rollups, one table per dimension the dashboard shows, so
-- that its work depends on the number of hours, tiers and merchants, not
-- on their product: a season of a million redemptions reads about as many
-- rollup rows as one of ten thousand.
CREATE TABLE rollup_hour (
    campaign_id       INTEGER NOT NULL REFERENCES campaigns(id),
    hour              TEXT NOT NULL,                -- Asia/Shanghai 'YYYY-MM-DD HH'
    claims            INTEGER NOT NULL DEFAULT 0,
    redemptions       INTEGER NOT NULL DEFAULT 0,
    reversals         INTEGER NOT NULL DEFAULT 0,
    subsidy_fen       INTEGER NOT NULL DEFAULT 0,
    consumption_fen   INTEGER NOT NULL DEFAULT 0,
    claim_to_redeem_s INTEGER NOT NULL DEFAULT 0,
    near_threshold    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, hour)
);
CREATE TABLE rollup_tier (
    campaign_id       INTEGER NOT NULL REFERENCES campaigns(id),
    tier_id           INTEGER NOT NULL REFERENCES tiers(id),
    claims            INTEGER NOT NULL DEFAULT 0,
    redemptions       INTEGER NOT NULL DEFAULT 0,
    reversals         INTEGER NOT NULL DEFAULT 0,
    subsidy_fen       INTEGER NOT NULL DEFAULT 0,
    consumption_fen   INTEGER NOT NULL DEFAULT 0,
    claim_to_redeem_s INTEGER NOT NULL DEFAULT 0,
    near_threshold    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, tier_id)
);
CREATE TABLE rollup_merchant (
    campaign_id       INTEGER NOT NULL REFERENCES campaigns(id),
    merchant_id       INTEGER NOT NULL REFERENCES merchants(id),
    redemptions       INTEGER NOT NULL DEFAULT 0,
    reversals         INTEGER NOT NULL DEFAULT 0,
    subsidy_fen       INTEGER NOT NULL DEFAULT 0,
    consumption_fen   INTEGER NOT NULL DEFAULT 0,
    claim_to_redeem_s INTEGER NOT NULL DEFAULT 0,
    near_threshold    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, merchant_id)
);
INSERT INTO rollup_hour SELECT campaign_id, hour, SUM(claims), SUM(redemptions), SUM(reversals), SUM(subsidy_fen), SUM(consumption_fen),
    SUM(claim_to_redeem_s), SUM(near_threshold) FROM rollup_hourly GROUP BY campaign_id, hour;
INSERT INTO rollup_tier SELECT campaign_id, tier_id, SUM(claims), SUM(redemptions), SUM(reversals), SUM(subsidy_fen), SUM(consumption_fen),
    SUM(claim_to_redeem_s), SUM(near_threshold) FROM rollup_hourly GROUP BY campaign_id, tier_id;
INSERT INTO rollup_merchant SELECT campaign_id, merchant_id, SUM(redemptions), SUM(reversals), SUM(subsidy_fen), SUM(consumption_fen),
    SUM(claim_to_redeem_s), SUM(near_threshold) FROM rollup_hourly WHERE merchant_id <> 0 GROUP BY campaign_id, merchant_id;
DROP TABLE rollup_hourly;
