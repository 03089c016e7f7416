package app

import "context"

// ExpiredTier is what one expiry sweep found for one tier.
type ExpiredTier struct {
	CampaignID int64 `db:"campaign_id"`
	TierID     int64 `db:"tier_id"`
	Count      int64 `db:"n"`
	Recycled   int64 `db:"-"`
}

// sweepBatch bounds one sweep transaction, so the writer is never held
// long while residents are claiming.
const sweepBatch = 500

// SweepExpired counts every voucher that expired unredeemed: their face
// value leaves the committed budget, and campaigns that recycle put them
// back into their next drop. It returns how many it counted.
func (a *App) SweepExpired(ctx context.Context) (int64, error) {
	var total int64
	for {
		found, err := a.store.SweepExpired(ctx, sweepBatch)
		if err != nil {
			return total, err
		}
		var n int64
		for _, t := range found {
			n += t.Count
			a.log.InfoContext(ctx, "vouchers expired", "campaign", t.CampaignID, "tier", t.TierID, "count", t.Count, "recycled", t.Recycled)
		}
		total += n
		if n < sweepBatch {
			return total, nil
		}
	}
}
