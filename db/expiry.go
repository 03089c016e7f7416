package db

import (
	"context"
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
		var ids []int64
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM vouchers WHERE status = 'claimed' AND lapsed_at IS NULL AND expires_at <= ?
			ORDER BY expires_at LIMIT ?`, now.UTC(), limit); err != nil || len(ids) == 0 {
			return err
		}
		q, args, err := sqlx.In(`UPDATE vouchers SET lapsed_at = ? WHERE id IN (?) AND status = 'claimed' AND lapsed_at IS NULL`, now.UTC(), ids)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		q, args, err = sqlx.In(`SELECT campaign_id, tier_id, COUNT(*) AS n FROM vouchers WHERE id IN (?) GROUP BY campaign_id, tier_id`, ids)
		if err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &out, q, args...); err != nil {
			return err
		}
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
