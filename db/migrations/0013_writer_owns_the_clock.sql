-- A bill above a plausible maximum is refused (one extra "000" at the till
-- must not inflate "consumption driven"); ¥100,000 unless the campaign says.
ALTER TABLE campaigns ADD COLUMN max_bill_fen INTEGER NOT NULL DEFAULT 10000000 CHECK (max_bill_fen > 0);

-- The time from claim to redemption, in whole seconds, computed once when
-- the redemption is written: the rollups add it and the raw recount sums
-- it, so the two can never round differently. Rows written before this
-- migration get it at the next start, in Go (db.backfillWaits), with the
-- very function that computed their rollups: SQL's julianday cannot
-- repeat Go's nanosecond truncation, and would disagree near whole seconds.
ALTER TABLE redemptions ADD COLUMN wait_s INTEGER CHECK (wait_s >= 0);
CREATE INDEX redemptions_wait_pending ON redemptions(id) WHERE wait_s IS NULL;

-- "Valid until 23:59:59" becomes an exclusive bound at the next local
-- midnight, so a voucher is still redeemable at 23:59:59.9. Times are
-- stored as Go writes them ('YYYY-MM-DD HH:MM:SS[.f]+00:00', UTC).
UPDATE vouchers SET expires_at = strftime('%Y-%m-%d %H:%M:%S', expires_at, '+1 second') || '+00:00'
    WHERE strftime('%H:%M:%S', expires_at, '+8 hours') = '23:59:59';
UPDATE campaigns SET valid_until = strftime('%Y-%m-%d %H:%M:%S', valid_until, '+1 second') || '+00:00'
    WHERE valid_until IS NOT NULL AND strftime('%H:%M:%S', valid_until, '+8 hours') = '23:59:59';

-- The paid-day guard of redemptions and reversals looks up a merchant's
-- settlement by day: the primary key (merchant_id, day) serves it.
