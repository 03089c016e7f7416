package db

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const campaignCols = `id, name, season, district_code, category_code, budget_fen, pending_budget_fen, pending_by, lottery_closes_at,
	(SELECT l.drawn_at FROM lotteries l WHERE l.campaign_id = campaigns.id) AS lottery_drawn_at,
	pending_move_from, pending_move_to, pending_move_n, pending_move_by, status,
	rejection_reason, claim_starts_at, claim_ends_at, validity_mode, valid_days, valid_from, valid_until,
	per_resident_limit, per_day_limit, per_tier_limit, release_mode, drop_rollover, recycle_expired, require_real_name,
	created_by, created_at, submitted_at, approved_by, approved_at,
	claimed_count, redeemed_count, reversed_count, subsidy_fen, consumption_fen, reach_residents, reach_merchants, max_bill_fen`

const tierCols = `id, campaign_id, face_fen, threshold_fen, quantity, released, remaining, lapsed, expired, claimed_count, redeemed_count, reversed_count`

const dropCols = `id, campaign_id, tier_id, opens_at, quantity, released_at`

// CreateCampaign inserts a campaign with its categories, tiers, drops and
// merchant lists, and its audit record, in one transaction.
func (s *Store) CreateCampaign(ctx context.Context, c *app.Campaign, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		id, err := tx.insertID(ctx, `INSERT INTO campaigns (name, season, district_code, category_code, budget_fen, status,
			claim_starts_at, claim_ends_at, validity_mode, valid_days, valid_from, valid_until,
			per_resident_limit, per_day_limit, per_tier_limit, release_mode, drop_rollover, recycle_expired, require_real_name, created_by, created_at,
			max_bill_fen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Name, c.Season, c.District, c.Category, c.BudgetFen, c.Status, c.ClaimStartsAt.UTC(), c.ClaimEndsAt.UTC(),
			c.ValidityMode, c.ValidDays, utcPtr(c.ValidFrom), utcPtr(c.ValidUntil),
			c.PerResidentLimit, c.PerDayLimit, c.PerTierLimit, c.ReleaseMode, c.DropRollover, c.RecycleExpired, c.RequireRealName, c.CreatedBy, c.CreatedAt.UTC(),
			maxBill(c.MaxBillFen))
		if err != nil {
			return err
		}
		c.ID = id
		if err := insertParts(ctx, tx, c); err != nil {
			return err
		}
		audit.EntityID = c.ID
		after, err := json.Marshal(c)
		if err != nil {
			return err
		}
		audit.AfterJSON = string(after)
		return s.appendAudit(ctx, tx, &audit)
	})
}

// insertParts writes a campaign's categories, merchant lists, tiers and
// drops (drops name their tier by index until the tiers have ids).
func insertParts(ctx context.Context, tx *Tx, c *app.Campaign) error {
	for _, code := range c.Categories {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_categories (campaign_id, category_code) VALUES (?, ?)`, c.ID, code); err != nil {
			return err
		}
	}
	for mode, ids := range map[string][]int64{"include": c.Include, "exclude": c.Exclude} {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_merchants (campaign_id, merchant_id, mode) VALUES (?, ?, ?)`, c.ID, id, mode); err != nil {
				return err
			}
		}
	}
	for i := range c.Tiers {
		t := &c.Tiers[i]
		t.CampaignID = c.ID
		id, err := tx.insertID(ctx, `INSERT INTO tiers (campaign_id, face_fen, threshold_fen, quantity, released, remaining)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, t.FaceFen, t.ThresholdFen, t.Quantity, t.Released, t.Remaining)
		if err != nil {
			return err
		}
		t.ID = id
		if err := setStock(ctx, tx, `t.remaining`, `t.id = ?`, id); err != nil {
			return err
		}
	}
	// Drops name their tier by index until the tiers have ids.
	for i := range c.Drops {
		d := &c.Drops[i]
		d.CampaignID, d.TierID = c.ID, c.Tiers[d.TierID].ID
		id, err := tx.insertID(ctx, `INSERT INTO drops (campaign_id, tier_id, opens_at, quantity) VALUES (?, ?, ?, ?)`,
			c.ID, d.TierID, d.OpensAt.UTC(), d.Quantity)
		if err != nil {
			return err
		}
		d.ID = id
	}
	return nil
}

// UpdateDraft replaces a draft or rejected campaign with new content, in
// one transaction: its row, then its parts deleted and written again.
func (s *Store) UpdateDraft(ctx context.Context, c *app.Campaign, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		err := guarded(tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, season = ?, district_code = ?, category_code = ?,
			budget_fen = ?, status = 'draft', rejection_reason = '', claim_starts_at = ?, claim_ends_at = ?, validity_mode = ?,
			valid_days = ?, valid_from = ?, valid_until = ?, per_resident_limit = ?, per_day_limit = ?, per_tier_limit = ?,
			release_mode = ?, drop_rollover = ?, recycle_expired = ?, require_real_name = ?, created_by = ?, max_bill_fen = ?
			WHERE id = ? AND status IN ('draft', 'rejected')`,
			c.Name, c.Season, c.District, c.Category, c.BudgetFen, c.ClaimStartsAt.UTC(), c.ClaimEndsAt.UTC(), c.ValidityMode,
			c.ValidDays, utcPtr(c.ValidFrom), utcPtr(c.ValidUntil), c.PerResidentLimit, c.PerDayLimit, c.PerTierLimit,
			c.ReleaseMode, c.DropRollover, c.RecycleExpired, c.RequireRealName, c.CreatedBy, maxBill(c.MaxBillFen), c.ID))("not_draft")
		if err != nil {
			return err
		}
		// A draft has no vouchers, so its tiers and drops can be replaced.
		for _, q := range []string{`DELETE FROM drops WHERE campaign_id = ?`, `DELETE FROM tiers WHERE campaign_id = ?`,
			`DELETE FROM campaign_categories WHERE campaign_id = ?`, `DELETE FROM campaign_merchants WHERE campaign_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, c.ID); err != nil {
				return err
			}
		}
		if err := insertParts(ctx, tx, c); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// maxBill stores a campaign's bill maximum; a campaign built without one
// (seeds, tools) gets the product's default.
func maxBill(f app.Fen) app.Fen {
	if f <= 0 {
		return app.DefaultMaxBill
	}
	return f
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// Campaign loads one campaign with its categories, tiers, drops and merchant lists.
func (s *Store) Campaign(ctx context.Context, id int64) (app.Campaign, error) {
	var c app.Campaign
	if err := s.r.GetContext(ctx, &c, `SELECT `+campaignCols+` FROM counted(campaigns) AS campaigns WHERE id = ?`, id); err != nil {
		return c, notFound(err, "campaign_not_found")
	}
	cs := []app.Campaign{c}
	if err := s.loadParts(ctx, cs); err != nil {
		return c, err
	}
	return cs[0], nil
}

// Campaigns lists campaigns, newest first, with their parts.
func (s *Store) Campaigns(ctx context.Context, f app.CampaignFilter) ([]app.Campaign, error) {
	q := `SELECT ` + campaignCols + ` FROM counted(campaigns) AS campaigns WHERE 1 = 1`
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
	if err := s.r.SelectContext(ctx, &cs, q, args...); err != nil {
		return nil, err
	}
	return cs, s.loadParts(ctx, cs)
}

// loadParts fills categories, tiers, drops and merchant lists of campaigns,
// one query per kind of part.
func (s *Store) loadParts(ctx context.Context, cs []app.Campaign) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	byID := make(map[int64]*app.Campaign, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
		byID[cs[i].ID] = &cs[i]
	}
	selectIn := func(dest any, query string) error {
		q, args, err := sqlx.In(query, ids)
		if err != nil {
			return err
		}
		return s.r.SelectContext(ctx, dest, q, args...)
	}
	var tiers []app.Tier
	if err := selectIn(&tiers, `SELECT `+tierCols+` FROM counted(tiers) AS tiers WHERE campaign_id IN (?) ORDER BY id`); err != nil {
		return err
	}
	for _, t := range tiers {
		byID[t.CampaignID].Tiers = append(byID[t.CampaignID].Tiers, t)
	}
	var drops []app.Drop
	if err := selectIn(&drops, `SELECT `+dropCols+` FROM drops WHERE campaign_id IN (?) ORDER BY opens_at, tier_id`); err != nil {
		return err
	}
	for _, d := range drops {
		byID[d.CampaignID].Drops = append(byID[d.CampaignID].Drops, d)
	}
	var cats []struct {
		CampaignID int64  `db:"campaign_id"`
		Code       string `db:"category_code"`
	}
	if err := selectIn(&cats, `SELECT cc.campaign_id, cc.category_code FROM campaign_categories cc
		JOIN categories k ON k.code = cc.category_code WHERE cc.campaign_id IN (?) ORDER BY k.rowid`); err != nil {
		return err
	}
	for _, k := range cats {
		byID[k.CampaignID].Categories = append(byID[k.CampaignID].Categories, k.Code)
	}
	var listed []struct {
		CampaignID int64  `db:"campaign_id"`
		MerchantID int64  `db:"merchant_id"`
		Mode       string `db:"mode"`
	}
	if err := selectIn(&listed, `SELECT campaign_id, merchant_id, mode FROM campaign_merchants WHERE campaign_id IN (?) ORDER BY merchant_id`); err != nil {
		return err
	}
	for _, l := range listed {
		c := byID[l.CampaignID]
		if l.Mode == "include" {
			c.Include = append(c.Include, l.MerchantID)
		} else {
			c.Exclude = append(c.Exclude, l.MerchantID)
		}
	}
	return nil
}

// ChangeCampaignStatus moves a campaign from one of the given statuses to
// another; the guard on the current status (and, for approval, on the
// maker) means two officers acting at once cannot both succeed.
func (s *Store) ChangeCampaignStatus(ctx context.Context, ch app.StatusChange) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		set := `status = ?`
		args := []any{ch.To}
		switch ch.To {
		case app.StatusSubmitted:
			set += `, submitted_at = ?, rejection_reason = ''`
			args = append(args, ch.At.UTC())
		case app.StatusApproved:
			if len(ch.From) == 1 && ch.From[0] == app.StatusSubmitted {
				set += `, approved_by = ?, approved_at = ?`
				args = append(args, ch.By, ch.At.UTC())
			}
		case app.StatusRejected:
			set += `, rejection_reason = ?`
			args = append(args, ch.Reason)
		}
		q, inArgs, err := sqlx.In(`UPDATE campaigns SET `+set+` WHERE id = ? AND status IN (?)`, append(args, ch.CampaignID, ch.From)...)
		if err != nil {
			return err
		}
		if ch.To == app.StatusApproved && ch.From[0] == app.StatusSubmitted {
			q += ` AND created_by <> ?`
			inArgs = append(inArgs, ch.By)
		}
		if err := guarded(tx.ExecContext(ctx, q, inArgs...))("status_changed"); err != nil {
			return err
		}
		audit := ch.Audit
		return s.appendAudit(ctx, tx, &audit)
	})
}

// guarded turns a guarded update's result into a conflict when it changed
// no row: the guard said no.
func guarded(res interface{ RowsAffected() (int64, error) }, err error) func(reason string) error {
	return func(reason string) error {
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != 1 {
			return app.Conflict(reason)
		}
		return nil
	}
}

// ChangeCampaign applies one safe change to a running campaign, each with
// a guard that re-checks its rule inside the transaction.
func (s *Store) ChangeCampaign(ctx context.Context, ch app.CampaignChange) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		switch {
		case ch.ClaimEndsAt != nil:
			err = guarded(tx.ExecContext(ctx, `UPDATE campaigns SET claim_ends_at = ?
				WHERE id = ? AND status IN ('approved', 'paused') AND claim_ends_at < ?`,
				ch.ClaimEndsAt.UTC(), ch.CampaignID, ch.ClaimEndsAt.UTC()))("status_changed")
		case ch.AddQuantity > 0:
			// Σ face × quantity after the change must stay within the budget.
			// On PostgreSQL the campaign's row is held first, as a quantity
			// move holds it: a change of another tier committing meanwhile is
			// then in the sum this statement reads, and two changes cannot
			// each pass the budget guard with the room for one.
			if err := s.lockCampaignRow(ctx, tx, ch.CampaignID); err != nil {
				return err
			}
			err = guarded(tx.ExecContext(ctx, `UPDATE tiers SET quantity = quantity + ?, released = released + ?, remaining = remaining + ?
				WHERE id = ? AND campaign_id = ?
				AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = tiers.campaign_id AND c.status IN ('approved', 'paused')
					AND c.release_mode = 'once'
					AND (SELECT SUM(t.face_fen * (t.quantity - t.expired)) FROM tiers t WHERE t.campaign_id = c.id) + tiers.face_fen * ? <= c.budget_fen)`,
				ch.AddQuantity, ch.AddQuantity, ch.AddQuantity, ch.TierID, ch.CampaignID, ch.AddQuantity))("budget_below_committed")
			if err == nil {
				err = addStock(ctx, tx, ch.TierID, int64(ch.AddQuantity))
			}
		case ch.Move != nil:
			err = guarded(tx.ExecContext(ctx, `UPDATE campaigns SET pending_move_from = ?, pending_move_to = ?, pending_move_n = ?, pending_move_by = ?
				WHERE id = ? AND status IN ('approved', 'paused') AND release_mode = 'once' AND pending_move_n IS NULL`,
				ch.Move.From, ch.Move.To, ch.Move.N, ch.Audit.ActorID, ch.CampaignID))("move_pending")
		case ch.Budget != nil:
			err = guarded(tx.ExecContext(ctx, `UPDATE campaigns SET pending_budget_fen = ?, pending_by = ?
				WHERE id = ? AND status IN ('approved', 'paused') AND pending_budget_fen IS NULL AND budget_fen < ?`,
				*ch.Budget, ch.Audit.ActorID, ch.CampaignID, *ch.Budget))("raise_pending")
		default:
			return app.Invalid("no_change")
		}
		if err != nil {
			return err
		}
		audit := ch.Audit
		return s.appendAudit(ctx, tx, &audit)
	})
}

// lockCampaignRow holds a campaign's row until the transaction ends, on
// PostgreSQL (SQLite's one writer orders every change already).
func (s *Store) lockCampaignRow(ctx context.Context, tx *Tx, id int64) error {
	if !s.Postgres() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT id FROM campaigns WHERE id = ? FOR UPDATE`, id)
	return err
}

// ApplyQuantityMove applies the pending move approved by a second
// officer, in one transaction at the writer's state: the first tier must
// still have the vouchers unclaimed (its stock held while it is read and
// set), and Σ face × quantity after the move must stay within the budget.
func (s *Store) ApplyQuantityMove(ctx context.Context, id int64, m app.QuantityMove, by int64, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE campaigns SET pending_move_from = NULL, pending_move_to = NULL, pending_move_n = NULL,
			pending_move_by = NULL WHERE id = ? AND status IN ('approved', 'paused') AND release_mode = 'once'
			AND pending_move_from = ? AND pending_move_to = ? AND pending_move_n = ? AND pending_move_by <> ?`,
			id, m.From, m.To, m.N, by))("status_changed"); err != nil {
			return err
		}
		left, err := lockStock(ctx, tx, m.From)
		if err != nil {
			return err
		}
		if left < m.N {
			return app.Conflict("move_beyond_unclaimed").With("left", strconv.FormatInt(left, 10))
		}
		if err := guarded(tx.ExecContext(ctx, `UPDATE tiers SET quantity = quantity - ?, released = released - ?, remaining = remaining - ?
			WHERE id = ? AND campaign_id = ? AND quantity >= ?`, m.N, m.N, m.N, m.From, id, m.N))("move_beyond_unclaimed"); err != nil {
			return err
		}
		if err := setStock(ctx, tx, strconv.FormatInt(left-m.N, 10), `t.id = ?`, m.From); err != nil {
			return err
		}
		if err := guarded(tx.ExecContext(ctx, `UPDATE tiers SET quantity = quantity + ?, released = released + ?, remaining = remaining + ?
			WHERE id = ? AND campaign_id = ?
			AND (SELECT SUM(t.face_fen * (t.quantity - t.expired)) FROM tiers t WHERE t.campaign_id = tiers.campaign_id) + tiers.face_fen * ?
				<= (SELECT budget_fen FROM campaigns WHERE id = tiers.campaign_id)`,
			m.N, m.N, m.N, m.To, id, m.N))("budget_below_committed"); err != nil {
			return err
		}
		if err := addStock(ctx, tx, m.To, m.N); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// DeclineQuantityMove clears the pending move, if it is still m.
func (s *Store) DeclineQuantityMove(ctx context.Context, id int64, m app.QuantityMove, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE campaigns SET pending_move_from = NULL, pending_move_to = NULL, pending_move_n = NULL,
			pending_move_by = NULL WHERE id = ? AND pending_move_from = ? AND pending_move_to = ? AND pending_move_n = ?`,
			id, m.From, m.To, m.N))("no_move_pending"); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// ApproveBudgetRaise applies a pending raise approved by a second officer.
func (s *Store) ApproveBudgetRaise(ctx context.Context, id int64, budget app.Fen, by int64, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		err := guarded(tx.ExecContext(ctx, `UPDATE campaigns SET budget_fen = pending_budget_fen, pending_budget_fen = NULL, pending_by = NULL
			WHERE id = ? AND pending_budget_fen = ? AND pending_by <> ?`, id, budget, by))("status_changed")
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// EligibleMerchants lists approved merchants that accept a campaign's vouchers.
func (s *Store) EligibleMerchants(ctx context.Context, c app.Campaign) ([]app.Merchant, error) {
	var ms []app.Merchant
	err := s.r.SelectContext(ctx, &ms, `SELECT `+merchantCols+` FROM merchants m WHERE m.status = 'approved'
		AND NOT EXISTS (SELECT 1 FROM campaign_merchants x WHERE x.campaign_id = ? AND x.merchant_id = m.id AND x.mode = 'exclude')
		AND (EXISTS (SELECT 1 FROM campaign_merchants x WHERE x.campaign_id = ? AND x.merchant_id = m.id AND x.mode = 'include')
			OR (m.category_code IN (SELECT category_code FROM campaign_categories WHERE campaign_id = ?)
				AND (? = ? OR m.district_code = ?)))
		ORDER BY m.district_code, m.name LIMIT 500`,
		c.ID, c.ID, c.ID, c.District, app.CityCode, c.District)
	return ms, err
}
