package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const lotteryCols = `campaign_id, commitment, seed_sealed, seed, created_at, drawn_at, drawn_by`

// SetLottery makes a campaign being prepared draw, once committed to its
// first seed: a second call changes the close, never the seed.
func (s *Store) SetLottery(ctx context.Context, l app.Lottery, closes time.Time, audit app.AuditEntry) (app.Lottery, error) {
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE campaigns SET lottery_closes_at = ?
			WHERE id = ? AND status IN ('draft', 'rejected') AND release_mode = 'once'`, closes, l.CampaignID))("not_editable"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lotteries (campaign_id, commitment, seed_sealed, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (campaign_id) DO NOTHING`, l.CampaignID, l.Commitment, l.SeedSealed, now); err != nil {
			return err
		}
		audit.At = now
		if err := s.appendAudit(ctx, tx, &audit); err != nil {
			return err
		}
		return tx.GetContext(ctx, &l, `SELECT `+lotteryCols+` FROM lotteries WHERE campaign_id = ?`, l.CampaignID)
	})
	return l, err
}

// Lottery reads a campaign's lottery.
func (s *Store) Lottery(ctx context.Context, campaignID int64) (app.Lottery, error) {
	var l app.Lottery
	err := s.r.GetContext(ctx, &l, `SELECT `+lotteryCols+` FROM lotteries WHERE campaign_id = ?`, campaignID)
	return l, notFound(err, "not_a_lottery")
}

// RegisterForLottery enters a resident, at the writer's time. On
// PostgreSQL the entry holds the lottery's row (FOR SHARE) until it
// commits, and the draw's update of that row waits for it: an entry made
// before the close is in the draw, and one after the draw began is refused.
func (s *Store) RegisterForLottery(ctx context.Context, r app.Registration, audit *app.AuditEntry) (app.Registration, error) {
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if s.Postgres() {
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM lotteries WHERE campaign_id = ? FOR SHARE`, r.CampaignID); err != nil {
				return err
			}
		}
		id, err := tx.insertID(ctx, `INSERT INTO lottery_registrations (campaign_id, tier_id, resident_id, district_code, registered_at)
			SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.id = ? AND c.status = 'approved'
				AND ? >= c.claim_starts_at AND ? < c.lottery_closes_at)
			AND EXISTS (SELECT 1 FROM lotteries l WHERE l.campaign_id = ? AND l.drawn_at IS NULL)`,
			r.CampaignID, r.TierID, r.ResidentID, r.District, now, r.CampaignID, now, now, r.CampaignID)
		switch {
		case isUnique(err):
			return app.Conflict("already_registered")
		case errors.Is(err, sql.ErrNoRows):
			return app.Conflict("registration_closed")
		case err != nil:
			return err
		}
		r.ID, r.RegisteredAt = id, now
		if audit == nil {
			return nil
		}
		audit.At, audit.AfterJSON = now, fmt.Sprintf(`{"registration":%d,"tier":%d}`, id, r.TierID)
		return s.appendAudit(ctx, tx, audit)
	})
	return r, err
}

// Registration reads a resident's entry.
func (s *Store) Registration(ctx context.Context, campaignID, residentID int64) (app.Registration, error) {
	var r app.Registration
	err := s.r.GetContext(ctx, &r, `SELECT id, campaign_id, tier_id, resident_id, district_code, registered_at, outcome, voucher_id
		FROM lottery_registrations WHERE campaign_id = ? AND resident_id = ?`, campaignID, residentID)
	return r, notFound(err, "not_registered")
}

// DrawLottery draws once: the lottery's row is marked drawn (its update
// waits for entries under way, on PostgreSQL), then every entry is read in
// tier and id order and each tier drawn with app.LotteryWinners; outcomes,
// the published draw and the audit entry are written in the same
// transaction.
func (s *Store) DrawLottery(ctx context.Context, campaignID int64, seedHex string, by int64,
	audit app.AuditEntry) (app.Lottery, []app.DrawTier, error) {
	var l app.Lottery
	var tiers []app.DrawTier
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE lotteries SET drawn_at = ?, drawn_by = ?, seed = ?, draw_json = '[]'
			WHERE campaign_id = ? AND drawn_at IS NULL
			AND ? >= (SELECT lottery_closes_at FROM campaigns WHERE id = ?)`, now, by, seedHex, campaignID, now, campaignID)
		if err := guarded(res, err)("not_drawn"); err != nil {
			var drawn bool
			if gerr := tx.GetContext(ctx, &drawn, `SELECT drawn_at IS NOT NULL FROM lotteries WHERE campaign_id = ?`, campaignID); gerr != nil {
				return notFound(gerr, "not_a_lottery")
			}
			if drawn {
				return app.Conflict("already_drawn")
			}
			return app.Conflict("registration_open")
		}
		var regs []struct {
			ID     int64 `db:"id"`
			TierID int64 `db:"tier_id"`
		}
		if err := tx.SelectContext(ctx, &regs, `SELECT id, tier_id FROM lottery_registrations WHERE campaign_id = ? ORDER BY tier_id, id`,
			campaignID); err != nil {
			return err
		}
		// Each tier's stock, read here: what the draw allocates is what the
		// store holds at the draw's time, not what a page read before it.
		var stocks []struct {
			ID        int64 `db:"id"`
			Remaining int64 `db:"remaining"`
		}
		if err := tx.SelectContext(ctx, &stocks, `SELECT id, remaining FROM counted(tiers) AS tiers WHERE campaign_id = ? ORDER BY id`,
			campaignID); err != nil {
			return err
		}
		byTier := map[int64][]int64{}
		for _, r := range regs {
			byTier[r.TierID] = append(byTier[r.TierID], r.ID)
		}
		tiers = tiers[:0]
		for _, st := range stocks {
			id := st.ID
			t := app.DrawTier{TierID: id, Stock: st.Remaining, Registrations: append([]int64{}, byTier[id]...)}
			t.Winners = app.LotteryWinners(seedHex, id, t.Stock, t.Registrations)
			if len(t.Winners) > 0 {
				q, args, err := sqlx.In(`UPDATE lottery_registrations SET outcome = 'won' WHERE id IN (?)`, t.Winners)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			tiers = append(tiers, t)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lottery_registrations SET outcome = 'lost' WHERE campaign_id = ? AND outcome IS NULL`,
			campaignID); err != nil {
			return err
		}
		published, err := json.Marshal(tiers)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lotteries SET draw_json = ? WHERE campaign_id = ?`, string(published), campaignID); err != nil {
			return err
		}
		audit.At = now
		if err := s.appendAudit(ctx, tx, &audit); err != nil {
			return err
		}
		return tx.GetContext(ctx, &l, `SELECT `+lotteryCols+` FROM lotteries WHERE campaign_id = ?`, campaignID)
	})
	return l, tiers, err
}

// DrawnTiers reads the draw as it was published.
func (s *Store) DrawnTiers(ctx context.Context, campaignID int64) ([]app.DrawTier, error) {
	var raw sql.NullString
	if err := s.r.GetContext(ctx, &raw, `SELECT draw_json FROM lotteries WHERE campaign_id = ?`, campaignID); err != nil {
		return nil, notFound(err, "not_a_lottery")
	}
	var tiers []app.DrawTier
	if !raw.Valid {
		return nil, nil
	}
	return tiers, json.Unmarshal([]byte(raw.String), &tiers)
}

// UnissuedWinners lists the winners whose voucher is not issued yet.
func (s *Store) UnissuedWinners(ctx context.Context, campaignID int64) ([]app.Registration, error) {
	var out []app.Registration
	err := s.r.SelectContext(ctx, &out, `SELECT id, campaign_id, tier_id, resident_id, district_code, registered_at, outcome, voucher_id
		FROM lottery_registrations WHERE campaign_id = ? AND outcome = 'won' AND voucher_id IS NULL ORDER BY id`, campaignID)
	return out, err
}

// LinkLotteryVoucher records the voucher a winner was given.
func (s *Store) LinkLotteryVoucher(ctx context.Context, registrationID, voucherID int64) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, _ time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE lottery_registrations SET voucher_id = ? WHERE id = ? AND (voucher_id IS NULL OR voucher_id = ?)`,
			voucherID, registrationID, voucherID)
		return err
	})
}

// LotteriesToIssue lists the campaigns whose winners are not all issued.
func (s *Store) LotteriesToIssue(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.r.SelectContext(ctx, &ids, `SELECT DISTINCT campaign_id FROM lottery_registrations
		WHERE outcome = 'won' AND voucher_id IS NULL ORDER BY campaign_id`)
	return ids, err
}

// LotteryFigures counts a lottery's entries and outcomes. "Elsewhere" is
// a live redemption of a voucher of another campaign of the same season
// (a campaign with no season has no elsewhere).
func (s *Store) LotteryFigures(ctx context.Context, campaignID int64, season string) (app.LotteryFigures, error) {
	var f app.LotteryFigures
	elsewhere := `EXISTS (SELECT 1 FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id JOIN campaigns c ON c.id = r.campaign_id
		WHERE v.resident_id = g.resident_id AND r.reversed_at IS NULL AND c.id <> g.campaign_id AND ? <> '' AND c.season = ?)`
	err := s.r.GetContext(ctx, &f, `SELECT COUNT(*) AS registrations,
		COALESCE(SUM(CASE WHEN g.outcome = 'won' THEN 1 ELSE 0 END), 0) AS winners,
		COALESCE(SUM(CASE WHEN g.outcome = 'lost' THEN 1 ELSE 0 END), 0) AS losers,
		COALESCE(SUM(CASE WHEN g.outcome = 'won' AND EXISTS (SELECT 1 FROM vouchers v WHERE v.id = g.voucher_id AND v.status = 'redeemed')
			THEN 1 ELSE 0 END), 0) AS winners_redeemed,
		COALESCE(SUM(CASE WHEN g.outcome = 'won' AND `+elsewhere+` THEN 1 ELSE 0 END), 0) AS winners_elsewhere,
		COALESCE(SUM(CASE WHEN g.outcome = 'lost' AND `+elsewhere+` THEN 1 ELSE 0 END), 0) AS losers_elsewhere
		FROM lottery_registrations g WHERE g.campaign_id = ?`, season, season, season, season, campaignID)
	return f, err
}

// LotteryDistricts counts a lottery's entries and winners by the district
// each entry gave, in district order.
func (s *Store) LotteryDistricts(ctx context.Context, campaignID int64) ([]app.LotteryDistrict, error) {
	var out []app.LotteryDistrict
	err := s.r.SelectContext(ctx, &out, `SELECT district_code, COUNT(*) AS registrations,
		COALESCE(SUM(CASE WHEN outcome = 'won' THEN 1 ELSE 0 END), 0) AS winners
		FROM lottery_registrations WHERE campaign_id = ? GROUP BY district_code ORDER BY district_code`, campaignID)
	return out, err
}
