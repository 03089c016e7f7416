-- Signals worth a look: bills just above a threshold, and the same
-- resident at the same merchant again and again.
ALTER TABLE rollup_hourly ADD COLUMN near_threshold INTEGER NOT NULL DEFAULT 0; -- live redemptions with bill < threshold × 1.05
CREATE TABLE campaign_pairs (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    live        INTEGER NOT NULL CHECK (live >= 0),
    PRIMARY KEY (campaign_id, resident_id, merchant_id)
);
CREATE INDEX campaign_pairs_repeat ON campaign_pairs(campaign_id, live);
INSERT INTO campaign_pairs (campaign_id, resident_id, merchant_id, live)
    SELECT r.campaign_id, v.resident_id, r.merchant_id, COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
    WHERE r.reversed_at IS NULL GROUP BY r.campaign_id, v.resident_id, r.merchant_id;
UPDATE rollup_hourly SET near_threshold = (
    SELECT COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id JOIN tiers t ON t.id = v.tier_id
    WHERE r.reversed_at IS NULL AND r.campaign_id = rollup_hourly.campaign_id AND v.tier_id = rollup_hourly.tier_id
      AND r.merchant_id = rollup_hourly.merchant_id AND strftime('%Y-%m-%d %H', r.created_at, '+8 hours') = rollup_hourly.hour
      AND t.threshold_fen > 0 AND r.bill_fen * 100 < t.threshold_fen * 105)
WHERE merchant_id <> 0;
