package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Read-only figures that the load generator (cmd/loadgen) checks the
// stored truth with after a drop and a redemption wave: raw counts beside
// the counters the transactions kept, each set read in one statement, so
// from one snapshot.

// ResidentCount is how many residents are stored, erased ones included.
func (s *Store) ResidentCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM residents`)
	return n, err
}

// DropFigures are a campaign's vouchers and claim counters, for its tier.
type DropFigures struct {
	Vouchers        int64 `db:"vouchers"`         // stored vouchers of the campaign
	TierVouchers    int64 `db:"tier_vouchers"`    // … of the tier
	Doubles         int64 `db:"doubles"`          // residents holding more than one of the campaign's
	Remaining       int64 `db:"remaining"`        // tiers.remaining
	TierClaimed     int64 `db:"tier_claimed"`     // tiers.claimed_count
	CampaignClaimed int64 `db:"campaign_claimed"` // campaigns.claimed_count
}

// DropFigures reads a campaign's DropFigures for one of its tiers.
func (s *Store) DropFigures(ctx context.Context, campaignID, tierID int64) (DropFigures, error) {
	var f DropFigures
	err := s.r.GetContext(ctx, &f, `SELECT
		(SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?1) AS vouchers,
		(SELECT COUNT(*) FROM vouchers WHERE tier_id = ?2) AS tier_vouchers,
		(SELECT COUNT(*) FROM (SELECT resident_id FROM vouchers WHERE campaign_id = ?1
			GROUP BY resident_id HAVING COUNT(*) > 1) AS d) AS doubles,
		(SELECT remaining FROM counted(tiers) AS t WHERE id = ?2) AS remaining,
		(SELECT claimed_count FROM counted(tiers) AS t WHERE id = ?2) AS tier_claimed,
		(SELECT claimed_count FROM counted(campaigns) AS c WHERE id = ?1) AS campaign_claimed
		WHERE EXISTS (SELECT 1 FROM tiers WHERE id = ?2 AND campaign_id = ?1)`, campaignID, tierID)
	return f, noTier(err, campaignID, tierID)
}

// noTier says which tier was not found where a figure needs it.
func noTier(err error, campaignID, tierID int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("db: campaign %d has no tier %d", campaignID, tierID)
	}
	return err
}

// RedemptionFigures are a campaign's redemptions and redemption counters,
// for its tier.
type RedemptionFigures struct {
	Vouchers         int64 `db:"vouchers"`          // stored vouchers of the campaign
	RedeemedVouchers int64 `db:"redeemed_vouchers"` // … whose status is redeemed
	Redemptions      int64 `db:"redemptions"`       // redemption rows, reversed or not
	Doubles          int64 `db:"doubles"`           // vouchers with more than one redemption row
	CampaignRedeemed int64 `db:"campaign_redeemed"` // campaigns.redeemed_count
	TierRedeemed     int64 `db:"tier_redeemed"`     // tiers.redeemed_count
	SubsidyFen       int64 `db:"subsidy_fen"`       // campaigns.subsidy_fen
	ConsumptionFen   int64 `db:"consumption_fen"`   // campaigns.consumption_fen
	DiscountFen      int64 `db:"discount_fen"`      // Σ redemptions.discount_fen, reversed or not
}

// RedemptionFigures reads a campaign's RedemptionFigures for one of its tiers.
func (s *Store) RedemptionFigures(ctx context.Context, campaignID, tierID int64) (RedemptionFigures, error) {
	var f RedemptionFigures
	err := s.r.GetContext(ctx, &f, `SELECT
		(SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?1) AS vouchers,
		(SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?1 AND status = 'redeemed') AS redeemed_vouchers,
		(SELECT COUNT(*) FROM redemptions WHERE campaign_id = ?1) AS redemptions,
		(SELECT COUNT(*) FROM (SELECT voucher_id FROM redemptions WHERE campaign_id = ?1
			GROUP BY voucher_id HAVING COUNT(*) > 1) AS d) AS doubles,
		(SELECT redeemed_count FROM counted(campaigns) AS c WHERE id = ?1) AS campaign_redeemed,
		(SELECT redeemed_count FROM counted(tiers) AS t WHERE id = ?2) AS tier_redeemed,
		(SELECT subsidy_fen FROM counted(campaigns) AS c WHERE id = ?1) AS subsidy_fen,
		(SELECT consumption_fen FROM counted(campaigns) AS c WHERE id = ?1) AS consumption_fen,
		(SELECT COALESCE(SUM(discount_fen), 0) FROM redemptions WHERE campaign_id = ?1) AS discount_fen
		WHERE EXISTS (SELECT 1 FROM tiers WHERE id = ?2 AND campaign_id = ?1)`, campaignID, tierID)
	return f, noTier(err, campaignID, tierID)
}

// HeldVoucher is a voucher as the load generator needs it: who holds it,
// in which state, with which token.
type HeldVoucher struct {
	ID         int64  `db:"id"`
	ResidentID int64  `db:"resident_id"`
	Status     string `db:"status"`
	Token      string `db:"token"`
}

// CampaignVouchers lists a campaign's vouchers by id.
func (s *Store) CampaignVouchers(ctx context.Context, campaignID int64) ([]HeldVoucher, error) {
	var vs []HeldVoucher
	err := s.r.SelectContext(ctx, &vs, `SELECT id, resident_id, status, token FROM vouchers WHERE campaign_id = ? ORDER BY id`, campaignID)
	return vs, err
}
