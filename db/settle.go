package db

import (
	"context"
	"encoding/json"
	"fmt"
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

// statementSet is the query of the statements a filter selects, with
// cols in its SELECT: each merchant-day-fund's figures computed from the
// redemptions (d), its merchant (m) and, if paid, its frozen row (p).
// created_at bounds (UTC) make the day range use the index; the day test
// then is exact. colArgs are the arguments of placeholders in cols.
func statementSet(f app.StatementFilter, cols string, colArgs ...any) (string, []any) {
	from, _ := time.ParseInLocation("2006-01-02", f.From, app.Shanghai)
	to, _ := time.ParseInLocation("2006-01-02", f.To, app.Shanghai)
	like := ""
	if f.Merchant != "" {
		like = "%" + escapeLike(f.Merchant) + "%"
	}
	q := `WITH d AS (` + dayFigures + `
		WHERE r.created_at >= ? AND r.created_at < ? AND (? = 0 OR r.merchant_id = ?)
		GROUP BY r.merchant_id, day, funding_district)
	SELECT ` + cols + `
	FROM d JOIN merchants m ON m.id = d.merchant_id
	LEFT JOIN settlements p ON p.merchant_id = d.merchant_id AND p.day = d.day AND p.funding_district = d.funding_district
	WHERE (? = '' OR d.funding_district = ?) AND (? = '' OR m.district_code = ?) AND (? = '' OR lower(m.name) LIKE lower(?) ESCAPE '\')
		AND (? <> 'paid' OR p.paid_at IS NOT NULL) AND (? <> 'unpaid' OR p.paid_at IS NULL)`
	args := append([]any{from.UTC(), to.AddDate(0, 0, 1).UTC(), f.MerchantID, f.MerchantID}, colArgs...)
	return q, append(args, f.District, f.District, f.MerchantDistrict, f.MerchantDistrict, like, like, f.Paid, f.Paid)
}

// onHold is true of a statement (d) whose fund holds its payments to the
// merchant: listed, never paid, until the hold is released.
const onHold = `EXISTS (SELECT 1 FROM settlement_holds h WHERE h.merchant_id = d.merchant_id
	AND h.funding_district = d.funding_district AND h.released_at IS NULL)`

// Statements computes daily statements from the redemptions and shows the
// frozen figures of those already paid, newest day first. f.District
// selects by funding district: a district's officers see what their
// district's campaigns owe, wherever the merchant is.
func (s *Store) Statements(ctx context.Context, f app.StatementFilter) ([]app.Statement, error) {
	q, args := statementSet(f, statementCols+`,
		COALESCE(p.redemptions, d.redemptions) AS redemptions, COALESCE(p.reversals, d.reversals) AS reversals,
		COALESCE(p.subsidy_fen, d.subsidy_fen) AS subsidy_fen, COALESCE(p.consumption_fen, d.consumption_fen) AS consumption_fen,
		p.paid_at, p.paid_by, p.batch_id, p.paid_at IS NULL AND `+onHold+` AS held`)
	q += ` ORDER BY d.day DESC, d.funding_district, m.district_code, m.name, m.id`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	var out []app.Statement
	err := s.r.SelectContext(ctx, &out, q, args...)
	return out, err
}

// StatementTotals sums the whole selection: paid statements by their
// frozen figures, the others by their rows.
func (s *Store) StatementTotals(ctx context.Context, f app.StatementFilter, today string) (app.StatementTotals, error) {
	q, args := statementSet(f, `COUNT(*) AS statements, COUNT(DISTINCT d.merchant_id) AS merchants,
		COALESCE(SUM(COALESCE(p.redemptions, d.redemptions)), 0) AS redemptions,
		COALESCE(SUM(COALESCE(p.reversals, d.reversals)), 0) AS reversals,
		COALESCE(SUM(COALESCE(p.subsidy_fen, d.subsidy_fen)), 0) AS subsidy_fen,
		COALESCE(SUM(COALESCE(p.consumption_fen, d.consumption_fen)), 0) AS consumption_fen,
		COALESCE(SUM(p.subsidy_fen), 0) AS paid_fen,
		COALESCE(SUM(CASE WHEN p.paid_at IS NULL AND d.day < ? AND NOT `+onHold+` THEN 1 ELSE 0 END), 0) AS payable,
		COALESCE(SUM(CASE WHEN p.paid_at IS NULL AND d.day < ? AND NOT `+onHold+` THEN d.subsidy_fen ELSE 0 END), 0) AS payable_fen,
		COALESCE(SUM(CASE WHEN p.paid_at IS NULL AND `+onHold+` THEN d.subsidy_fen ELSE 0 END), 0) AS held_fen`, today, today)
	var t app.StatementTotals
	err := s.r.GetContext(ctx, &t, q, args...)
	return t, err
}

// MarkPaid freezes what one funding district owes a merchant for a day as
// paid, once, as a batch of one, with its audit record. The day must be
// over at the writer's time (in SQL, against the time read inside this
// transaction): a redemption or reversal queued before midnight either
// committed before this, and is in the figures, or commits after it and
// is refused by the paid-day guard.
func (s *Store) MarkPaid(ctx context.Context, k app.StatementKey, by int64, audit app.AuditEntry) (app.Statement, error) {
	var st app.Statement
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		f := app.StatementFilter{MerchantID: k.MerchantID, District: k.FundingDistrict, From: k.Day, To: k.Day}
		// One statement paid through the API nets no clawback: its answer
		// is the statement, and a clawback netted there would go unseen.
		// Clawbacks wait for a payment confirmed with its figures.
		b, err := s.pay(ctx, tx, now, f, nil, false, by)
		if app.ErrorReason(err) == "nothing_to_pay" {
			var n int
			if gerr := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM settlements WHERE merchant_id = ? AND day = ? AND funding_district = ?`,
				k.MerchantID, k.Day, k.FundingDistrict); gerr != nil {
				return gerr
			}
			switch {
			case n > 0:
				return app.Conflict("already_paid")
			case !app.DayOver(k.Day, now):
				return app.Conflict("day_not_closed")
			}
			return app.NotFound("statement_empty")
		}
		if err != nil {
			return err
		}
		after, _ := json.Marshal(map[string]any{"day": k.Day, "funding_district": k.FundingDistrict, "batch": b.ID})
		audit.AfterJSON = string(after)
		if err := s.appendAudit(ctx, tx, &audit); err != nil {
			return err
		}
		return tx.GetContext(ctx, &st, `SELECT `+statementCols+`,
			d.redemptions, d.reversals, d.subsidy_fen, d.consumption_fen, d.paid_at, d.paid_by, d.batch_id
			FROM settlements d JOIN merchants m ON m.id = d.merchant_id
			WHERE d.merchant_id = ? AND d.day = ? AND d.funding_district = ?`, k.MerchantID, k.Day, k.FundingDistrict)
	})
	return st, err
}

// PayStatements pays a selection as one batch, with its audit entry.
func (s *Store) PayStatements(ctx context.Context, f app.StatementFilter, want *app.Payment, by int64, audit app.AuditEntry) (app.PaymentBatch, error) {
	var b app.PaymentBatch
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		var err error
		if b, err = s.pay(ctx, tx, now, f, want, true, by); err != nil {
			return err
		}
		audit.EntityID = b.ID
		after, _ := json.Marshal(map[string]any{"batch": b.ID, "statements": b.Statements, "merchants": b.Merchants,
			"subsidy_fen": b.SubsidyFen, "clawback_fen": b.ClawbackFen, "from": b.FromDay, "to": b.ToDay, "funding_district": b.FundingDistrict,
			"merchant_district": f.MerchantDistrict, "merchant": f.Merchant, "merchant_id": f.MerchantID})
		audit.AfterJSON = string(after)
		return s.appendAudit(ctx, tx, &audit)
	})
	return b, err
}

// selector is a pool or a transaction: what a read needs.
type selector interface {
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// payment is what paying a selection at a day does: the statements it
// freezes and the clawbacks it nets.
type payment struct {
	app.Payment
	dues   []due
	net    bool // whether the payment nets open clawbacks
	netted []app.Clawback
	q      string // the dues' query and its arguments
	args   []any
}

type due struct {
	MerchantID int64   `db:"merchant_id"`
	Day        string  `db:"day"`
	SubsidyFen app.Fen `db:"subsidy_fen"`
}

// paymentOf reads, through x, what paying the selection does on today:
// every unpaid statement of the fund the filter selects whose day is
// before today and whose merchant is not on hold, and the open clawbacks
// of the fund that their merchants' amounts cover (app.NetClawbacks).
func paymentOf(ctx context.Context, x selector, f app.StatementFilter, today string, net bool) (payment, error) {
	f.Paid = app.UnpaidOnly
	var p payment
	p.q, p.args = statementSet(f, `d.merchant_id, d.day, d.subsidy_fen`)
	p.q += ` AND d.day < ? AND NOT ` + onHold + ` ORDER BY d.merchant_id, d.day`
	p.args = append(p.args, today)
	if err := x.SelectContext(ctx, &p.dues, p.q, p.args...); err != nil {
		return p, err
	}
	p.net = net
	return p, p.sum(ctx, x, f.District)
}

// sum adds up the dues and nets the fund's open clawbacks against them.
func (p *payment) sum(ctx context.Context, x selector, fund string) error {
	p.Payment = app.Payment{Statements: int64(len(p.dues))}
	gross := map[int64]app.Fen{}
	for _, d := range p.dues {
		p.SubsidyFen += d.SubsidyFen
		gross[d.MerchantID] += d.SubsidyFen
		if p.FromDay == "" || d.Day < p.FromDay {
			p.FromDay = d.Day
		}
		p.ToDay = max(p.ToDay, d.Day)
	}
	p.Merchants = int64(len(gross))
	p.netted = nil
	if len(p.dues) == 0 || !p.net {
		return nil
	}
	var open []app.Clawback
	if err := x.SelectContext(ctx, &open, `SELECT `+clawbackCols+` FROM clawbacks WHERE funding_district = ? AND batch_id IS NULL ORDER BY id`,
		fund); err != nil {
		return err
	}
	p.netted = app.NetClawbacks(gross, open)
	for _, c := range p.netted {
		p.ClawbackFen += c.SubsidyFen
	}
	return nil
}

const clawbackCols = `id, redemption_id, merchant_id, funding_district, day, subsidy_fen, consumption_fen, created_at, batch_id`

// PaymentPreview reads what paying the selection would do on today.
func (s *Store) PaymentPreview(ctx context.Context, f app.StatementFilter, today string) (app.Payment, error) {
	p, err := paymentOf(ctx, s.r, f, today, true)
	return p.Payment, err
}

// Clawbacks lists a merchant's clawbacks, newest first.
func (s *Store) Clawbacks(ctx context.Context, merchantID int64, fund string) ([]app.Clawback, error) {
	var out []app.Clawback
	err := s.r.SelectContext(ctx, &out, `SELECT `+clawbackCols+` FROM clawbacks WHERE merchant_id = ? AND (? = '' OR funding_district = ?)
		ORDER BY id DESC LIMIT 200`, merchantID, fund, fund)
	return out, err
}

// pay freezes, in tx and as one new batch, what paying the selection does
// at now (paymentOf), netting its clawbacks. It answers nothing_to_pay
// when there is nothing, and statements_changed when what it finds is not
// what want says. On PostgreSQL each merchant-day is locked first (in one
// order, so that two payments cannot deadlock) and the selection read
// again under the locks, so that a reversal in flight either is in the
// figures (or its clawback is) or comes after the payment and claws back.
func (s *Store) pay(ctx context.Context, tx *Tx, now time.Time, f app.StatementFilter, want *app.Payment, net bool, by int64) (app.PaymentBatch, error) {
	if f.District == "" {
		return app.PaymentBatch{}, fmt.Errorf("db: a payment is from one fund: no funding district")
	}
	today := app.LocalDay(now)
	p, err := paymentOf(ctx, tx, f, today, net)
	if err != nil {
		return app.PaymentBatch{}, err
	}
	if s.Postgres() && len(p.dues) > 0 {
		locked := make([]due, len(p.dues))
		copy(locked, p.dues)
		for _, d := range locked { // ordered by merchant, then day
			if err := s.lockMerchantDay(ctx, tx, d.MerchantID, d.Day, true); err != nil {
				return app.PaymentBatch{}, err
			}
		}
		p.dues = p.dues[:0]
		if err := tx.SelectContext(ctx, &p.dues, p.q, p.args...); err != nil {
			return app.PaymentBatch{}, err
		}
		// A merchant-day that appeared only now (a redemption stamped before
		// midnight that committed after the first read) is not locked: a
		// refund of it could run beside this. Pay nothing; the officer
		// confirms the selection anew.
		if !sameDays(locked, p.dues) {
			return app.PaymentBatch{}, app.Conflict("statements_changed").
				With("statements", fmt.Sprint(len(p.dues))).With("amount", "?")
		}
		if err := p.sum(ctx, tx, f.District); err != nil {
			return app.PaymentBatch{}, err
		}
	}
	switch {
	case want != nil && (p.Statements != want.Statements || p.SubsidyFen != want.SubsidyFen || p.ClawbackFen != want.ClawbackFen):
		return app.PaymentBatch{}, app.Conflict("statements_changed").
			With("statements", fmt.Sprint(p.Statements)).With("amount", p.NetFen().Yuan())
	case len(p.dues) == 0:
		return app.PaymentBatch{}, app.NotFound("nothing_to_pay")
	}
	b := app.PaymentBatch{FundingDistrict: f.District, CreatedAt: now, CreatedBy: by, Statements: p.Statements, Merchants: p.Merchants,
		SubsidyFen: p.SubsidyFen, ClawbackFen: p.ClawbackFen, FromDay: p.FromDay, ToDay: p.ToDay}
	if b.ID, err = tx.insertID(ctx, `INSERT INTO payment_batches (funding_district, created_at, created_by, statements, merchants, subsidy_fen,
		clawback_fen, from_day, to_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.FundingDistrict, now, by, b.Statements, b.Merchants, b.SubsidyFen, b.ClawbackFen, b.FromDay, b.ToDay); err != nil {
		return b, err
	}
	f.Paid = app.UnpaidOnly
	ins, iargs := statementSet(f, `d.merchant_id, d.day, d.funding_district, d.redemptions, d.reversals, d.subsidy_fen, d.consumption_fen, ?, ?, ?`,
		now, by, b.ID)
	// The frozen rows are read back: the batch pays what they say, or
	// nothing (a hold or a statement that changed since the read above).
	var frozen []app.Fen
	if err := tx.SelectContext(ctx, &frozen, `INSERT INTO settlements (merchant_id, day, funding_district, redemptions, reversals, subsidy_fen,
		consumption_fen, paid_at, paid_by, batch_id) `+ins+` AND d.day < ? AND NOT `+onHold+`
		ON CONFLICT (merchant_id, day, funding_district) DO NOTHING RETURNING subsidy_fen`, append(iargs, today)...); err != nil {
		return b, err
	}
	var sum app.Fen
	for _, f := range frozen {
		sum += f
	}
	if int64(len(frozen)) != b.Statements || sum != b.SubsidyFen {
		return b, app.Conflict("statements_changed").With("statements", fmt.Sprint(len(frozen))).With("amount", sum.Yuan())
	}
	// A clawback netted by a payment being written beside this one (on
	// PostgreSQL) is no longer open: this payment's figures are then stale.
	for _, c := range p.netted {
		if err := guarded(tx.ExecContext(ctx, `UPDATE clawbacks SET batch_id = ? WHERE id = ? AND batch_id IS NULL`, b.ID, c.ID))("statements_changed"); err != nil {
			return b, err
		}
	}
	return b, nil
}

// sameDays reports whether two lists of dues, each in merchant-then-day
// order, name the same merchant-days.
func sameDays(a, b []due) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].MerchantID != b[i].MerchantID || a[i].Day != b[i].Day {
			return false
		}
	}
	return true
}

const batchCols = `b.id, b.funding_district, b.created_at, b.created_by, o.display_name AS created_by_name,
	b.statements, b.merchants, b.subsidy_fen, b.clawback_fen, b.from_day, b.to_day`

// PaymentBatches lists a fund's latest batches ("" = every fund's).
func (s *Store) PaymentBatches(ctx context.Context, fundingDistrict string, limit int) ([]app.PaymentBatch, error) {
	var out []app.PaymentBatch
	err := s.r.SelectContext(ctx, &out, `SELECT `+batchCols+` FROM payment_batches b JOIN officers o ON o.id = b.created_by
		WHERE (? = '' OR b.funding_district = ?) ORDER BY b.id DESC LIMIT ?`, fundingDistrict, fundingDistrict, limit)
	return out, err
}

// PaymentBatch reads one batch.
func (s *Store) PaymentBatch(ctx context.Context, id int64) (app.PaymentBatch, error) {
	var b app.PaymentBatch
	err := s.r.GetContext(ctx, &b, `SELECT `+batchCols+` FROM payment_batches b JOIN officers o ON o.id = b.created_by WHERE b.id = ?`, id)
	return b, notFound(err, "batch_not_found")
}

// PaymentLines sums a batch's statements per merchant, in merchant order.
func (s *Store) PaymentLines(ctx context.Context, batchID int64) ([]app.PaymentLine, error) {
	var out []app.PaymentLine
	err := s.r.SelectContext(ctx, &out, `SELECT m.id AS merchant_id, m.name AS merchant_name, m.settlement_account_sealed,
		COUNT(*) AS statements, SUM(p.subsidy_fen) AS subsidy_fen, MIN(p.day) AS from_day, MAX(p.day) AS to_day,
		COALESCE((SELECT SUM(c.subsidy_fen) FROM clawbacks c WHERE c.batch_id = p.batch_id AND c.merchant_id = m.id), 0) AS clawback_fen
		FROM settlements p JOIN merchants m ON m.id = p.merchant_id WHERE p.batch_id = ?
		GROUP BY m.id, m.name, m.settlement_account_sealed, p.batch_id ORDER BY m.id`, batchID)
	return out, err
}

// HoldStatements opens a hold on a fund's payments to a merchant, with its
// audit entry; one open hold at a time (already_held).
func (s *Store) HoldStatements(ctx context.Context, h app.SettlementHold, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlement_holds (merchant_id, funding_district, held_at, held_by, reason)
			VALUES (?, ?, ?, ?, ?)`, h.MerchantID, h.FundingDistrict, now, h.HeldBy, h.Reason); err != nil {
			if isUnique(err) {
				return app.Conflict("already_held")
			}
			return err
		}
		audit.At = now
		return s.appendAudit(ctx, tx, &audit)
	})
}

// ReleaseStatements closes the open hold, with its audit entry.
func (s *Store) ReleaseStatements(ctx context.Context, merchantID int64, fund string, by int64, note string, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE settlement_holds SET released_at = ?, released_by = ?, release_note = ?
			WHERE merchant_id = ? AND funding_district = ? AND released_at IS NULL`, now, by, note, merchantID, fund))("not_held"); err != nil {
			return err
		}
		audit.At = now
		return s.appendAudit(ctx, tx, &audit)
	})
}

// SettlementHolds lists the open holds of a fund ("" = every fund's).
func (s *Store) SettlementHolds(ctx context.Context, fund string) ([]app.SettlementHold, error) {
	var out []app.SettlementHold
	err := s.r.SelectContext(ctx, &out, `SELECT h.id, h.merchant_id, m.name AS merchant_name, h.funding_district, h.held_at, h.held_by,
		o.display_name AS held_by_name, h.reason FROM settlement_holds h JOIN merchants m ON m.id = h.merchant_id
		JOIN officers o ON o.id = h.held_by WHERE h.released_at IS NULL AND (? = '' OR h.funding_district = ?) ORDER BY h.id`, fund, fund)
	return out, err
}
