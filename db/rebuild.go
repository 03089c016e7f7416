package db

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// RebuildDerived recomputes, from the raw vouchers and redemptions, every
// counter and rollup that the claim, redemption and reversal transactions
// keep: for a season loaded in bulk, and for an operator who doubts a
// figure. One transaction: readers see the old figures or the new ones.
func (s *Store) RebuildDerived(ctx context.Context) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		for _, q := range []string{
			`DELETE FROM rollup_hour`,
			`DELETE FROM rollup_tier`,
			`DELETE FROM rollup_merchant`,
			`DELETE FROM campaign_redeemers`,
			`DELETE FROM campaign_merchant_use`,
			`DELETE FROM campaign_pairs`,
			`DELETE FROM resident_claims`,
			`INSERT INTO resident_claims (campaign_id, resident_id, claimed)
				SELECT campaign_id, resident_id, COUNT(*) FROM vouchers GROUP BY campaign_id, resident_id`,
			// One event per row (claims, live redemptions, reversals), then
			// summed along each dimension, as the live transactions add them.
			`CREATE TEMP TABLE rebuild_events AS ` + rawEvents("IS NOT NULL"),
			`INSERT INTO rollup_hour SELECT campaign_id, hour, ` + rawSums + ` FROM rebuild_events GROUP BY campaign_id, hour`,
			`INSERT INTO rollup_tier SELECT campaign_id, tier_id, ` + rawSums + ` FROM rebuild_events GROUP BY campaign_id, tier_id`,
			`INSERT INTO rollup_merchant SELECT campaign_id, merchant_id, SUM(redemptions), SUM(reversals), SUM(subsidy_fen), SUM(consumption_fen),
				SUM(claim_to_redeem_s), SUM(near_threshold) FROM rebuild_events WHERE merchant_id <> 0 GROUP BY campaign_id, merchant_id`,
			`DROP TABLE rebuild_events`,
			`INSERT INTO campaign_redeemers (campaign_id, resident_id, live)
				SELECT r.campaign_id, v.resident_id, COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
				WHERE r.reversed_at IS NULL GROUP BY r.campaign_id, v.resident_id`,
			`INSERT INTO campaign_merchant_use (campaign_id, merchant_id, live)
				SELECT campaign_id, merchant_id, COUNT(*) FROM redemptions WHERE reversed_at IS NULL GROUP BY campaign_id, merchant_id`,
			`INSERT INTO campaign_pairs (campaign_id, resident_id, merchant_id, live)
				SELECT r.campaign_id, v.resident_id, r.merchant_id, COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
				WHERE r.reversed_at IS NULL GROUP BY r.campaign_id, v.resident_id, r.merchant_id`,
			// One statement for claimed and remaining: the CHECK on their sum
			// holds only for the pair.
			`UPDATE tiers SET
				claimed_count = (SELECT COUNT(*) FROM vouchers v WHERE v.tier_id = tiers.id),
				remaining = released - lapsed - (SELECT COUNT(*) FROM vouchers v WHERE v.tier_id = tiers.id),
				redeemed_count = (SELECT COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE v.tier_id = tiers.id AND r.reversed_at IS NULL),
				reversed_count = (SELECT COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE v.tier_id = tiers.id AND r.reversed_at IS NOT NULL)`,
			`UPDATE campaigns SET
				claimed_count = (SELECT COALESCE(SUM(claimed_count), 0) FROM tiers WHERE campaign_id = campaigns.id),
				redeemed_count = (SELECT COALESCE(SUM(redeemed_count), 0) FROM tiers WHERE campaign_id = campaigns.id),
				reversed_count = (SELECT COALESCE(SUM(reversed_count), 0) FROM tiers WHERE campaign_id = campaigns.id),
				subsidy_fen = (SELECT COALESCE(SUM(discount_fen), 0) FROM redemptions WHERE campaign_id = campaigns.id AND reversed_at IS NULL),
				consumption_fen = (SELECT COALESCE(SUM(bill_fen), 0) FROM redemptions WHERE campaign_id = campaigns.id AND reversed_at IS NULL),
				reach_residents = (SELECT COUNT(*) FROM campaign_redeemers x WHERE x.campaign_id = campaigns.id AND x.live > 0),
				reach_merchants = (SELECT COUNT(*) FROM campaign_merchant_use x WHERE x.campaign_id = campaigns.id AND x.live > 0)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkTx runs fn in one write transaction, for loading generated data.
func (s *Store) BulkTx(ctx context.Context, fn func(*sqlx.Tx) error) error { return s.tx(ctx, fn) }
