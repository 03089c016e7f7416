package db

import (
	"context"
	"time"

	"cqvoucher/app"
)

// dayFigures sums one merchant-day of one funding district (the district
// of the redemptions' campaigns, whose fund pays them): live redemptions
// count and money; reversed ones are counted as reversals and owe nothing.
// Callers group by merchant_id, day, funding_district.
const dayFigures = `SELECT r.merchant_id, local_day(r.created_at) AS day, fc.district_code AS funding_district,
	SUM(CASE WHEN r.reversed_at IS NULL THEN 1 ELSE 0 END) AS redemptions,
	SUM(CASE WHEN r.reversed_at IS NULL THEN 0 ELSE 1 END) AS reversals,
	SUM(CASE WHEN r.reversed_at IS NULL THEN r.discount_fen ELSE 0 END) AS subsidy_fen,
	SUM(CASE WHEN r.reversed_at IS NULL THEN r.bill_fen ELSE 0 END) AS consumption_fen
	FROM redemptions r JOIN campaigns fc ON fc.id = r.campaign_id`

// statementCols reads a statement from d (figures, or a paid row) joined
// to its merchant m and its paid row p.
const statementCols = `m.id AS merchant_id, m.name AS merchant_name, m.district_code, m.settlement_account_sealed, d.day, d.funding_district`

// Statements computes daily statements from the redemptions and shows the
// frozen figures of those already paid. f.District selects by funding
// district: a district's officers see what their district's campaigns owe,
// wherever the merchant is.
func (s *Store) Statements(ctx context.Context, f app.StatementFilter) ([]app.Statement, error) {
	// created_at bounds (UTC) make the range use the index; the day test then is exact.
	from, _ := time.ParseInLocation("2006-01-02", f.From, app.Shanghai)
	to, _ := time.ParseInLocation("2006-01-02", f.To, app.Shanghai)
	q := `WITH d AS (` + dayFigures + `
		WHERE r.created_at >= ? AND r.created_at < ? AND (? = 0 OR r.merchant_id = ?)
		GROUP BY r.merchant_id, day, funding_district)
	SELECT ` + statementCols + `,
		COALESCE(p.redemptions, d.redemptions) AS redemptions, COALESCE(p.reversals, d.reversals) AS reversals,
		COALESCE(p.subsidy_fen, d.subsidy_fen) AS subsidy_fen, COALESCE(p.consumption_fen, d.consumption_fen) AS consumption_fen,
		p.paid_at, p.paid_by
	FROM d JOIN merchants m ON m.id = d.merchant_id
	LEFT JOIN settlements p ON p.merchant_id = d.merchant_id AND p.day = d.day AND p.funding_district = d.funding_district
	WHERE (? = '' OR d.funding_district = ?)
	ORDER BY d.day DESC, d.funding_district, m.district_code, m.name`
	var out []app.Statement
	err := s.r.SelectContext(ctx, &out, q, from.UTC(), to.AddDate(0, 0, 1).UTC(), f.MerchantID, f.MerchantID, f.District, f.District)
	return out, err
}

// MarkPaid freezes what one funding district owes a merchant for a day as
// paid, once, with its audit record. The day must be over at the writer's
// time (in SQL, against the time read inside this transaction): a
// redemption or reversal queued before midnight either committed before
// this, and is in the figures, or commits after it and is refused by the
// paid-day guard.
func (s *Store) MarkPaid(ctx context.Context, k app.StatementKey, by int64, audit app.AuditEntry) (app.Statement, error) {
	var st app.Statement
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := s.lockMerchantDay(ctx, tx, k.MerchantID, k.Day, true); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO settlements (merchant_id, day, funding_district, redemptions, reversals, subsidy_fen, consumption_fen, paid_at, paid_by)
			SELECT merchant_id, day, funding_district, redemptions, reversals, subsidy_fen, consumption_fen, ?, ? FROM (`+dayFigures+`
				WHERE r.merchant_id = ? AND fc.district_code = ? GROUP BY r.merchant_id, day, funding_district) AS d
			WHERE day = ? AND day < ?
			ON CONFLICT (merchant_id, day, funding_district) DO NOTHING`,
			now, by, k.MerchantID, k.FundingDistrict, k.Day, app.LocalDay(now))
		if err := guarded(res, err)("already_paid_or_empty"); err != nil {
			var n int
			if gerr := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM settlements WHERE merchant_id = ? AND day = ? AND funding_district = ?`,
				k.MerchantID, k.Day, k.FundingDistrict); gerr == nil && n > 0 {
				return app.Conflict("already_paid")
			}
			if !app.DayOver(k.Day, now) {
				return app.Conflict("day_not_closed")
			}
			if app.ErrorCode(err) == app.ECONFLICT {
				return app.NotFound("statement_empty")
			}
			return err
		}
		audit.AfterJSON = `{"day":"` + k.Day + `","funding_district":"` + k.FundingDistrict + `"}`
		if err := s.appendAudit(ctx, tx, &audit); err != nil {
			return err
		}
		return tx.GetContext(ctx, &st, `SELECT `+statementCols+`,
			d.redemptions, d.reversals, d.subsidy_fen, d.consumption_fen, d.paid_at, d.paid_by
			FROM settlements d JOIN merchants m ON m.id = d.merchant_id
			WHERE d.merchant_id = ? AND d.day = ? AND d.funding_district = ?`, k.MerchantID, k.Day, k.FundingDistrict)
	})
	return st, err
}
