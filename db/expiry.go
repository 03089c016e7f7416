package db

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

// SweepExpired counts vouchers that expired unredeemed before now, at
// most limit of them, in one transaction: each is marked (so it is counted
// once), its tier's expired count grows (freeing its face value from the
// committed budget), and for campaigns that recycle, as many vouchers are
// added to the tier's next unreleased drop (committing it again).
//
// now is the writer's time, read inside the transaction.
func (s *Store) SweepExpired(ctx context.Context, limit int) ([]app.ExpiredTier, error) {
	var out []app.ExpiredTier
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if alone, err := s.onlyOneAtATime(ctx, tx, sweepExpiredJob); err != nil || !alone {
			return err // another process is sweeping: it will have lapsed these
		}
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM vouchers WHERE status = 'claimed' AND lapsed_at IS NULL AND expires_at <= ?
			ORDER BY expires_at LIMIT ?`, now.UTC(), limit); err != nil || len(ids) == 0 {
			return err
		}
		// The counts come from the rows this UPDATE lapsed, not from the
		// ids read above: on PostgreSQL a redemption may commit between the
		// two, and its voucher is then not lapsed (its guard fails here).
		q, args, err := sqlx.In(`UPDATE vouchers SET lapsed_at = ? WHERE id IN (?) AND status = 'claimed' AND lapsed_at IS NULL
			RETURNING campaign_id, tier_id`, now.UTC(), ids)
		if err != nil {
			return err
		}
		var lapsed []app.ExpiredTier
		if err := tx.SelectContext(ctx, &lapsed, q, args...); err != nil {
			return err
		}
		out = countByTier(lapsed)
		for i := range out {
			t := &out[i]
			if _, err := tx.ExecContext(ctx, `UPDATE tiers SET expired = expired + ? WHERE id = ?`, t.Count, t.TierID); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE drops SET quantity = quantity + ?
				WHERE id = (SELECT d.id FROM drops d JOIN campaigns c ON c.id = d.campaign_id
					WHERE d.tier_id = ? AND d.released_at IS NULL AND d.opens_at > ? AND c.recycle_expired = 1
						AND c.status IN ('approved', 'paused')
					ORDER BY d.opens_at LIMIT 1)`, t.Count, t.TierID, now.UTC())
			if err != nil {
				return err
			}
			if n, err := affected(res); err != nil {
				return err
			} else if n == 1 {
				t.Recycled = t.Count
				if _, err := tx.ExecContext(ctx, `UPDATE tiers SET quantity = quantity + ? WHERE id = ?`, t.Count, t.TierID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// countByTier counts lapsed vouchers per campaign and tier, in that order.
func countByTier(lapsed []app.ExpiredTier) []app.ExpiredTier {
	var out []app.ExpiredTier
	at := map[int64]int{}
	for _, v := range lapsed {
		i, ok := at[v.TierID]
		if !ok {
			i = len(out)
			at[v.TierID] = i
			out = append(out, app.ExpiredTier{CampaignID: v.CampaignID, TierID: v.TierID})
		}
		out[i].Count++
	}
	slices.SortFunc(out, func(a, b app.ExpiredTier) int {
		return cmp.Or(cmp.Compare(a.CampaignID, b.CampaignID), cmp.Compare(a.TierID, b.TierID))
	})
	return out
}
