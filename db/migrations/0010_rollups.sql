-- Evaluation rollups, kept in the same transactions as the claims,
-- redemptions and reversals they count, so that a dashboard reads a few
-- rows per hour, tier and merchant however large a season grows.
CREATE TABLE rollup_hourly (
    campaign_id       INTEGER NOT NULL REFERENCES campaigns(id),
    tier_id           INTEGER NOT NULL REFERENCES tiers(id),
    merchant_id       INTEGER NOT NULL DEFAULT 0,   -- 0 on claim rows
    hour              TEXT NOT NULL,                -- Asia/Shanghai 'YYYY-MM-DD HH'
    claims            INTEGER NOT NULL DEFAULT 0,
    redemptions       INTEGER NOT NULL DEFAULT 0,   -- live redemptions made in this hour
    reversals         INTEGER NOT NULL DEFAULT 0,   -- reversals made in this hour
    subsidy_fen       INTEGER NOT NULL DEFAULT 0,
    consumption_fen   INTEGER NOT NULL DEFAULT 0,
    claim_to_redeem_s INTEGER NOT NULL DEFAULT 0,   -- Σ seconds from claim to redemption
    PRIMARY KEY (campaign_id, tier_id, merchant_id, hour)
);

-- Live redemptions per resident and per merchant of a campaign: reach is
-- the number of these rows with live > 0, kept as counters on campaigns.
CREATE TABLE campaign_redeemers (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    live        INTEGER NOT NULL CHECK (live >= 0),
    PRIMARY KEY (campaign_id, resident_id)
);
CREATE TABLE campaign_merchant_use (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    live        INTEGER NOT NULL CHECK (live >= 0),
    PRIMARY KEY (campaign_id, merchant_id)
);
ALTER TABLE campaigns ADD COLUMN reach_residents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN reach_merchants INTEGER NOT NULL DEFAULT 0;

-- Backfill from what is already stored.
INSERT INTO rollup_hourly (campaign_id, tier_id, merchant_id, hour, claims)
    SELECT campaign_id, tier_id, 0, strftime('%Y-%m-%d %H', claimed_at, '+8 hours'), COUNT(*) FROM vouchers
    GROUP BY campaign_id, tier_id, strftime('%Y-%m-%d %H', claimed_at, '+8 hours');
INSERT INTO rollup_hourly (campaign_id, tier_id, merchant_id, hour, redemptions, subsidy_fen, consumption_fen, claim_to_redeem_s)
    SELECT r.campaign_id, v.tier_id, r.merchant_id, strftime('%Y-%m-%d %H', r.created_at, '+8 hours'), COUNT(*),
        SUM(r.discount_fen), SUM(r.bill_fen), SUM(CAST(strftime('%s', r.created_at) AS INTEGER) - CAST(strftime('%s', v.claimed_at) AS INTEGER))
    FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE r.reversed_at IS NULL
    GROUP BY r.campaign_id, v.tier_id, r.merchant_id, strftime('%Y-%m-%d %H', r.created_at, '+8 hours')
    ON CONFLICT (campaign_id, tier_id, merchant_id, hour) DO UPDATE SET redemptions = excluded.redemptions,
        subsidy_fen = excluded.subsidy_fen, consumption_fen = excluded.consumption_fen, claim_to_redeem_s = excluded.claim_to_redeem_s;
INSERT INTO rollup_hourly (campaign_id, tier_id, merchant_id, hour, reversals)
    SELECT r.campaign_id, v.tier_id, r.merchant_id, strftime('%Y-%m-%d %H', r.reversed_at, '+8 hours'), COUNT(*)
    FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE r.reversed_at IS NOT NULL
    GROUP BY r.campaign_id, v.tier_id, r.merchant_id, strftime('%Y-%m-%d %H', r.reversed_at, '+8 hours')
    ON CONFLICT (campaign_id, tier_id, merchant_id, hour) DO UPDATE SET reversals = excluded.reversals;
INSERT INTO campaign_redeemers (campaign_id, resident_id, live)
    SELECT r.campaign_id, v.resident_id, COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
    WHERE r.reversed_at IS NULL GROUP BY r.campaign_id, v.resident_id;
INSERT INTO campaign_merchant_use (campaign_id, merchant_id, live)
    SELECT campaign_id, merchant_id, COUNT(*) FROM redemptions WHERE reversed_at IS NULL GROUP BY campaign_id, merchant_id;
UPDATE campaigns SET
    reach_residents = (SELECT COUNT(*) FROM campaign_redeemers x WHERE x.campaign_id = campaigns.id AND x.live > 0),
    reach_merchants = (SELECT COUNT(*) FROM campaign_merchant_use x WHERE x.campaign_id = campaigns.id AND x.live > 0);
