package db

import (
	"context"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const campaignCols = `id, name, district_code, category_code, budget_fen, status, claim_starts_at, claim_ends_at,
	valid_days, per_resident_limit, created_by, created_at, submitted_at, approved_by, approved_at,
	claimed_count, redeemed_count, subsidy_fen, consumption_fen`

const tierCols = `id, campaign_id, face_fen, threshold_fen, quantity, remaining, claimed_count, redeemed_count`

// CreateCampaign inserts a campaign and its tiers in one transaction.
func (s *Store) CreateCampaign(ctx context.Context, c *app.Campaign) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (name, district_code, category_code, budget_fen, status,
			claim_starts_at, claim_ends_at, valid_days, per_resident_limit, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Name, c.District, c.Category, c.BudgetFen, c.Status, c.ClaimStartsAt.UTC(), c.ClaimEndsAt.UTC(),
			c.ValidDays, c.PerResidentLimit, c.CreatedBy, c.CreatedAt.UTC())
		if err != nil {
			return err
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for i := range c.Tiers {
			t := &c.Tiers[i]
			t.CampaignID = c.ID
			res, err := tx.ExecContext(ctx, `INSERT INTO tiers (campaign_id, face_fen, threshold_fen, quantity, remaining)
				VALUES (?, ?, ?, ?, ?)`, c.ID, t.FaceFen, t.ThresholdFen, t.Quantity, t.Quantity)
			if err != nil {
				return err
			}
			if t.ID, err = res.LastInsertId(); err != nil {
				return err
			}
			t.Remaining = t.Quantity
		}
		return nil
	})
}

// Campaign loads one campaign with its tiers.
func (s *Store) Campaign(ctx context.Context, id int64) (app.Campaign, error) {
	var c app.Campaign
	if err := s.r.GetContext(ctx, &c, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id); err != nil {
		return c, notFound(err, "campaign_not_found")
	}
	err := s.r.SelectContext(ctx, &c.Tiers, `SELECT `+tierCols+` FROM tiers WHERE campaign_id = ? ORDER BY id`, id)
	return c, err
}

// Campaigns lists campaigns, newest first, with their tiers.
func (s *Store) Campaigns(ctx context.Context, f app.CampaignFilter) ([]app.Campaign, error) {
	q := `SELECT ` + campaignCols + ` FROM campaigns WHERE 1 = 1`
	var args []any
	if f.District != "" {
		q += ` AND district_code = ?`
		args = append(args, f.District)
	}
	if len(f.Statuses) > 0 {
		in, inArgs, err := sqlx.In(` AND status IN (?)`, f.Statuses)
		if err != nil {
			return nil, err
		}
		q += in
		args = append(args, inArgs...)
	}
	q += ` ORDER BY id DESC`
	var cs []app.Campaign
	if err := s.r.SelectContext(ctx, &cs, s.r.Rebind(q), args...); err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return cs, nil
	}
	ids := make([]int64, len(cs))
	byID := make(map[int64]*app.Campaign, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
		byID[cs[i].ID] = &cs[i]
	}
	tq, targs, err := sqlx.In(`SELECT `+tierCols+` FROM tiers WHERE campaign_id IN (?) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	var tiers []app.Tier
	if err := s.r.SelectContext(ctx, &tiers, s.r.Rebind(tq), targs...); err != nil {
		return nil, err
	}
	for _, t := range tiers {
		byID[t.CampaignID].Tiers = append(byID[t.CampaignID].Tiers, t)
	}
	return cs, nil
}

// ChangeCampaignStatus moves a campaign from one status to another; the
// guard on the current status (and, for approval, on the maker) means two
// officers acting at once cannot both succeed.
func (s *Store) ChangeCampaignStatus(ctx context.Context, ch app.StatusChange) error {
	var q string
	args := []any{ch.To}
	switch ch.To {
	case app.StatusSubmitted:
		q = `UPDATE campaigns SET status = ?, submitted_at = ? WHERE id = ? AND status = ?`
		args = append(args, ch.At.UTC(), ch.CampaignID, ch.From)
	case app.StatusApproved:
		q = `UPDATE campaigns SET status = ?, approved_by = ?, approved_at = ? WHERE id = ? AND status = ? AND created_by <> ?`
		args = append(args, ch.By, ch.At.UTC(), ch.CampaignID, ch.From, ch.By)
	default:
		q = `UPDATE campaigns SET status = ? WHERE id = ? AND status = ?`
		args = append(args, ch.CampaignID, ch.From)
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := affected(res); err != nil || n != 1 {
		if err != nil {
			return err
		}
		return app.Conflict("status_changed")
	}
	return nil
}
