-- Vouchers that expire unredeemed free their share of the committed
-- budget; a campaign may put them back into later drops.
ALTER TABLE tiers ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vouchers ADD COLUMN lapsed_at DATETIME; -- set when the expiry sweep has counted it
CREATE INDEX vouchers_expiry ON vouchers(expires_at) WHERE status = 'claimed' AND lapsed_at IS NULL;
