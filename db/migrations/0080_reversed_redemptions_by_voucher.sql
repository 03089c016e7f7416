-- The public voucher page says when a voucher's use was reversed: that
-- reads a voucher's reversed redemptions, which the partial index on live
-- redemptions does not cover (without this, every scan of /v/ would read
-- the whole table).
CREATE INDEX redemptions_reversed_voucher ON redemptions(voucher_id, reversed_at) WHERE reversed_at IS NOT NULL;
