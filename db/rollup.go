package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/report"
)

// shanghaiHour is the rollup bucket of a time: its Asia/Shanghai hour.
func shanghaiHour(t time.Time) string { return t.In(app.Shanghai).Format("2006-01-02 15") }

// rollClaim counts a claim in its campaign, hour and tier, inside the
// claim's transaction (once per batch: see counters.go).
func rollClaim(ctx context.Context, tx *Tx, campaignID, tierID int64, at time.Time) error {
	if err := addCounter(ctx, tx, campaignClaims, campaignID, nil, 1); err != nil {
		return err
	}
	if err := addCounter(ctx, tx, hourClaims, campaignID, shanghaiHour(at), 1); err != nil {
		return err
	}
	return addCounter(ctx, tx, tierClaims, campaignID, tierID, 1)
}

type rollupDelta struct {
	redemptions, reversals, subsidy, consumption, wait, near int64
}

// rollAdd adds figures to one row of each dimension's rollup.
func rollAdd(ctx context.Context, tx *Tx, campaignID, tierID, merchantID int64, hour string, d rollupDelta) error {
	n := []int64{d.redemptions, d.reversals, d.subsidy, d.consumption, d.wait, d.near}
	if err := addCounter(ctx, tx, hourFigures, campaignID, hour, n...); err != nil {
		return err
	}
	if err := addCounter(ctx, tx, tierFigures, campaignID, tierID, n...); err != nil {
		return err
	}
	return addCounter(ctx, tx, merchantFigures, campaignID, merchantID, n...)
}

// voucherFacts are what a redemption's rollups need to know of its voucher.
type voucherFacts struct {
	CampaignID   int64     `db:"campaign_id"`
	TierID       int64     `db:"tier_id"`
	ResidentID   int64     `db:"resident_id"`
	ClaimedAt    time.Time `db:"claimed_at"`
	ThresholdFen int64     `db:"threshold_fen"`
}

// rollRedemption adds (sign +1) or takes back (sign −1) a redemption in the
// hour it was made, and keeps the reach counters: a resident or merchant
// counts while it has at least one live redemption of the campaign. The
// caller passes the voucher's facts, which it has already read.
func rollRedemption(ctx context.Context, tx *Tx, red app.Redemption, v voucherFacts, sign int64) error {
	d := rollupDelta{redemptions: sign, subsidy: sign * int64(red.DiscountFen), consumption: sign * int64(red.BillFen),
		wait: sign * red.WaitS}
	if nearThreshold(int64(red.BillFen), v.ThresholdFen) {
		d.near = sign
	}
	if err := rollAdd(ctx, tx, red.CampaignID, v.TierID, red.MerchantID, shanghaiHour(red.CreatedAt), d); err != nil {
		return err
	}
	pair := `INSERT INTO campaign_pairs (campaign_id, resident_id, merchant_id, live) VALUES (?, ?, ?, 1)
		ON CONFLICT (campaign_id, resident_id, merchant_id) DO UPDATE SET live = campaign_pairs.live + 1`
	if sign < 0 {
		pair = `UPDATE campaign_pairs SET live = live - 1 WHERE campaign_id = ? AND resident_id = ? AND merchant_id = ?`
	}
	if _, err := tx.ExecContext(ctx, pair, red.CampaignID, v.ResidentID, red.MerchantID); err != nil {
		return err
	}
	// live moves 0 → 1 (sign +1) or 1 → 0 (sign −1): that is when reach changes.
	edge := int64(1)
	if sign < 0 {
		edge = 0
	}
	for _, r := range []struct {
		table, key string
		reach      *counterStmt
	}{
		{"campaign_redeemers", "resident_id", reachResidents},
		{"campaign_merchant_use", "merchant_id", reachMerchants},
	} {
		id := v.ResidentID
		if r.key == "merchant_id" {
			id = red.MerchantID
		}
		// An upsert cannot take back: SQLite checks the inserted row's
		// CHECK (live >= 0) before it sees the conflict.
		q := `INSERT INTO ` + r.table + ` (campaign_id, ` + r.key + `, live) VALUES (?, ?, 1)
			ON CONFLICT (campaign_id, ` + r.key + `) DO UPDATE SET live = ` + r.table + `.live + 1 RETURNING live`
		if sign < 0 {
			q = `UPDATE ` + r.table + ` SET live = live - 1 WHERE campaign_id = ? AND ` + r.key + ` = ? RETURNING live`
		}
		var live int64
		switch err := tx.QueryRowxContext(ctx, q, red.CampaignID, id).Scan(&live); {
		case errors.Is(err, sql.ErrNoRows):
			continue // nothing live to take back: reach does not change
		case err != nil:
			return err
		}
		if live == edge {
			if err := addCounter(ctx, tx, r.reach, red.CampaignID, nil, sign); err != nil {
				return err
			}
		}
	}
	return nil
}

// nearThreshold is the signal "bill just above the threshold": within 5 %.
func nearThreshold(bill, threshold int64) bool {
	return threshold > 0 && bill*100 < threshold*105
}

// rollReversal counts a reversal in the hour it was made.
func rollReversal(ctx context.Context, tx *Tx, red app.Redemption, tierID int64, at time.Time) error {
	return rollAdd(ctx, tx, red.CampaignID, tierID, red.MerchantID, shanghaiHour(at), rollupDelta{reversals: 1})
}

const rollupCols = `claims, redemptions, reversals, subsidy_fen, consumption_fen, claim_to_redeem_s, near_threshold`

// RollupParts reads a campaign's rollups: rows per hour, per tier and per
// merchant (with its name, district and category), however many
// redemptions they sum.
func (s *Store) RollupParts(ctx context.Context, campaignID int64) (report.Parts, error) {
	var p report.Parts
	if err := s.r.SelectContext(ctx, &p.Hours, `SELECT hour AS key, `+rollupCols+` FROM counted(rollup_hour) AS h WHERE campaign_id = ?`, campaignID); err != nil {
		return p, err
	}
	if err := s.r.SelectContext(ctx, &p.Tiers, `SELECT CAST(tier_id AS TEXT) AS key, `+rollupCols+` FROM counted(rollup_tier) AS t WHERE campaign_id = ?`, campaignID); err != nil {
		return p, err
	}
	err := s.r.SelectContext(ctx, &p.Merchants, `SELECT CAST(r.merchant_id AS TEXT) AS key, m.name AS merchant_name, m.district_code, m.category_code,
		0 AS claims, r.redemptions, r.reversals, r.subsidy_fen, r.consumption_fen, r.claim_to_redeem_s, r.near_threshold
		FROM counted(rollup_merchant) AS r JOIN merchants m ON m.id = r.merchant_id WHERE r.campaign_id = ?`, campaignID)
	return p, err
}

// rawEvents is every event as one row: claims, live redemptions and
// reversals, with the keys of all three rollup dimensions. campaign is a
// condition on the campaign ("= ?1" for one, "IS NOT NULL" for all); the
// raw recomputation and the rebuild read the same definition.
func rawEvents(campaign string) string {
	return `
	SELECT v.campaign_id, local_hour(v.claimed_at) AS hour, v.tier_id, 0 AS merchant_id,
		1 AS claims, 0 AS redemptions, 0 AS reversals, 0 AS subsidy_fen, 0 AS consumption_fen, 0 AS claim_to_redeem_s, 0 AS near_threshold
	FROM vouchers v WHERE v.campaign_id ` + campaign + `
	UNION ALL
	SELECT r.campaign_id, local_hour(r.created_at), v.tier_id, r.merchant_id, 0, 1, 0, r.discount_fen, r.bill_fen,
		r.wait_s,
		CASE WHEN t.threshold_fen > 0 AND r.bill_fen * 100 < t.threshold_fen * 105 THEN 1 ELSE 0 END
	FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id JOIN tiers t ON t.id = v.tier_id
	WHERE r.campaign_id ` + campaign + ` AND r.reversed_at IS NULL
	UNION ALL
	SELECT r.campaign_id, local_hour(r.reversed_at), v.tier_id, r.merchant_id, 0, 0, 1, 0, 0, 0, 0
	FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE r.campaign_id ` + campaign + ` AND r.reversed_at IS NOT NULL`
}

const rawSums = `SUM(claims) AS claims, SUM(redemptions) AS redemptions, SUM(reversals) AS reversals, SUM(subsidy_fen) AS subsidy_fen,
	SUM(consumption_fen) AS consumption_fen, SUM(claim_to_redeem_s) AS claim_to_redeem_s, SUM(near_threshold) AS near_threshold`

// RawParts computes the same parts from the raw vouchers and redemptions.
// It reads every row, so it is slow on a big season: it exists to check
// the rollups (tests, and an operator who doubts a figure).
func (s *Store) RawParts(ctx context.Context, campaignID int64) (report.Parts, error) {
	var p report.Parts
	if err := s.r.SelectContext(ctx, &p.Hours, `SELECT hour AS key, `+rawSums+` FROM (`+rawEvents("= ?1")+`) AS e GROUP BY hour`, campaignID); err != nil {
		return p, err
	}
	if err := s.r.SelectContext(ctx, &p.Tiers, `SELECT CAST(tier_id AS TEXT) AS key, `+rawSums+` FROM (`+rawEvents("= ?1")+`) AS e GROUP BY tier_id`, campaignID); err != nil {
		return p, err
	}
	err := s.r.SelectContext(ctx, &p.Merchants, `SELECT CAST(e.merchant_id AS TEXT) AS key, m.name AS merchant_name, m.district_code, m.category_code, `+
		rawSums+` FROM (`+rawEvents("= ?1")+`) e JOIN merchants m ON m.id = e.merchant_id WHERE e.merchant_id <> 0 GROUP BY e.merchant_id, m.id`, campaignID) // m.id: PostgreSQL reads m's columns by its key
	return p, err
}

// RawReach counts distinct residents and merchants with a live redemption.
func (s *Store) RawReach(ctx context.Context, campaignID int64) (residents, merchants int64, err error) {
	err = s.r.QueryRowxContext(ctx, `SELECT COUNT(DISTINCT v.resident_id), COUNT(DISTINCT r.merchant_id)
		FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE r.campaign_id = ? AND r.reversed_at IS NULL`, campaignID).
		Scan(&residents, &merchants)
	return residents, merchants, err
}

// RepeatPairs counts resident–merchant pairs of a campaign with at least
// min live redemptions: the same person at the same shop again and again.
func (s *Store) RepeatPairs(ctx context.Context, campaignID int64, min int) (int64, error) {
	var n int64
	err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM campaign_pairs WHERE campaign_id = ? AND live >= ?`, campaignID, min)
	return n, err
}
