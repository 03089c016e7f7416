package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

// voucherSelect reads vouchers (filtered on v.) with what they show of
// their campaign and tier. Subqueries by primary key, not joins: SQLite
// answered the same row three to four times faster so (a cashier's every
// scan and a resident's every wallet read go through it).
const voucherSelect = `SELECT v.id, v.code, v.campaign_id, v.tier_id, v.resident_id, v.status, v.token,
	v.claimed_at, v.expires_at, v.redeemed_at, v.valid_from, v.voided_at, v.void_reason, v.assisted_by, v.printed_at,
	(SELECT name FROM campaigns WHERE id = v.campaign_id) AS campaign_name,
	(SELECT district_code FROM campaigns WHERE id = v.campaign_id) AS district_code,
	(SELECT category_code FROM campaigns WHERE id = v.campaign_id) AS category_code,
	(SELECT face_fen FROM tiers WHERE id = v.tier_id) AS face_fen,
	(SELECT threshold_fen FROM tiers WHERE id = v.tier_id) AS threshold_fen,
	(SELECT max_bill_fen FROM campaigns WHERE id = v.campaign_id) AS max_bill_fen,
	(SELECT m.name FROM redemptions r JOIN merchants m ON m.id = r.merchant_id WHERE r.voucher_id = v.id AND r.reversed_at IS NULL) AS merchant_name
	FROM vouchers v`

// claimRules are a campaign's rules as stored, read inside the claim's
// transaction: the store decides by them, not by what the caller passed.
type claimRules struct {
	Status     string `db:"status"`
	NotOpen    bool   `db:"not_open"` // now is before the claim window
	Ended      bool   `db:"ended"`    // now is at or past its end
	Rollover   bool   `db:"drop_rollover"`
	Limit      int    `db:"per_resident_limit"`
	DayLimit   int    `db:"per_day_limit"`
	TierLimit  int    `db:"per_tier_limit"`
	TierExists bool   `db:"tier_exists"`
	DropsDue   bool   `db:"drops_due"`
	// What the new voucher shows of its campaign and tier.
	Name         string  `db:"name"`
	District     string  `db:"district_code"`
	Category     string  `db:"category_code"`
	MaxBillFen   app.Fen `db:"max_bill_fen"`
	FaceFen      app.Fen `db:"face_fen"`
	ThresholdFen app.Fen `db:"threshold_fen"`
}

// Claim carries out one claim in one transaction; see app.ClaimInsert.
func (s *Store) Claim(ctx context.Context, in app.ClaimInsert) (app.Voucher, error) {
	var id int64
	var issued *app.Voucher // set when this call issued the voucher (not a replay)
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		issued = nil
		if in.RequestKey != "" {
			var prior struct {
				ID         int64 `db:"id"`
				CampaignID int64 `db:"campaign_id"`
				TierID     int64 `db:"tier_id"`
			}
			err := tx.GetContext(ctx, &prior, `SELECT id, campaign_id, tier_id FROM vouchers WHERE resident_id = ? AND request_key = ?`,
				in.ResidentID, in.RequestKey)
			if err == nil {
				if prior.CampaignID != in.CampaignID || prior.TierID != in.TierID {
					return app.Conflict("request_key_reused")
				}
				id = prior.ID
				return nil // a double tap: the voucher the first tap produced
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var rules claimRules
		// One read gives the campaign's rules as stored, the tier and
		// whether a drop is due. Times are compared in SQL, as text: every
		// stored time and the bound now have the driver's one UTC layout,
		// whose order is time order (as the redemption's expiry guard
		// relies on too); subqueries, not a join, keep the read cheap.
		if err := tx.GetContext(ctx, &rules, `SELECT c.status, ?3 < c.claim_starts_at AS not_open, ?3 >= c.claim_ends_at AS ended,
			c.drop_rollover, c.per_resident_limit, c.per_day_limit, c.per_tier_limit, c.name, c.district_code, c.category_code, c.max_bill_fen,
			EXISTS (SELECT 1 FROM tiers WHERE id = ?1 AND campaign_id = c.id) AS tier_exists,
			COALESCE((SELECT face_fen FROM tiers WHERE id = ?1), 0) AS face_fen,
			COALESCE((SELECT threshold_fen FROM tiers WHERE id = ?1), 0) AS threshold_fen,
			EXISTS (SELECT 1 FROM drops WHERE tier_id = ?1 AND released_at IS NULL AND opens_at <= ?3) AS drops_due
			FROM campaigns c WHERE c.id = ?2`,
			in.TierID, in.CampaignID, now.UTC()); err != nil {
			return notFound(err, "campaign_not_found")
		}
		switch {
		case !rules.TierExists:
			return app.NotFound("tier_not_found")
		case rules.Status == app.StatusPaused:
			return app.Conflict("paused")
		case rules.Status != app.StatusApproved:
			return app.Conflict("ended")
		case rules.NotOpen:
			return app.Conflict("not_open")
		case rules.Ended:
			return app.Conflict("ended")
		case in.ExpiresAt.Sub(now) < app.MinUsable:
			// The voucher was signed for a day that ended (or all but ended)
			// while the press waited for the writer: never issue a dead voucher.
			return app.Conflict("validity_passed")
		}
		if rules.DropsDue {
			if err := releaseDueDrops(ctx, tx, in.TierID, rules.Rollover, now); err != nil {
				return err
			}
		}
		if err := takeStock(ctx, tx, in.TierID, in.CampaignID); err != nil {
			return err
		}
		// Each limit is a guarded upsert on its own counter row: the row
		// can only grow while it is below the limit.
		// RETURNING gives the resident's count after this claim, which
		// numbers the voucher (its slot); no row means the limit held.
		var slot int64
		switch err := tx.QueryRowxContext(ctx, `INSERT INTO resident_claims (campaign_id, resident_id, claimed) VALUES (?, ?, 1)
			ON CONFLICT (campaign_id, resident_id) DO UPDATE SET claimed = resident_claims.claimed + 1 WHERE resident_claims.claimed < ? RETURNING claimed`,
			in.CampaignID, in.ResidentID, rules.Limit).Scan(&slot); {
		case errors.Is(err, sql.ErrNoRows):
			return limitErr(app.Conflict("limit_reached"), rules.Limit)
		case err != nil:
			return err
		}
		if rules.DayLimit > 0 {
			if err := guarded(tx.ExecContext(ctx, `INSERT INTO resident_day_claims (campaign_id, resident_id, day, claimed) VALUES (?, ?, ?, 1)
				ON CONFLICT (campaign_id, resident_id, day) DO UPDATE SET claimed = resident_day_claims.claimed + 1 WHERE resident_day_claims.claimed < ?`,
				in.CampaignID, in.ResidentID, app.LocalDay(now), rules.DayLimit))("day_limit_reached"); err != nil {
				return limitErr(err, rules.DayLimit)
			}
		}
		if rules.TierLimit > 0 {
			if err := guarded(tx.ExecContext(ctx, `INSERT INTO resident_tier_claims (tier_id, resident_id, claimed) VALUES (?, ?, 1)
				ON CONFLICT (tier_id, resident_id) DO UPDATE SET claimed = resident_tier_claims.claimed + 1 WHERE resident_tier_claims.claimed < ?`,
				in.TierID, in.ResidentID, rules.TierLimit))("tier_limit_reached"); err != nil {
				return limitErr(err, rules.TierLimit)
			}
		}
		var key any
		if in.RequestKey != "" {
			key = in.RequestKey
		}
		var err error
		id, err = tx.insertID(ctx, `INSERT INTO vouchers (code, campaign_id, tier_id, resident_id, slot, request_key, status,
			token, claimed_at, expires_at, valid_from, assisted_by) VALUES (?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?, ?, ?)
			ON CONFLICT (resident_id, request_key) DO NOTHING`,
			in.Code, in.CampaignID, in.TierID, in.ResidentID, slot, key, in.Token, now, in.ExpiresAt.UTC(), utcPtr(in.ValidFrom), in.AssistedBy)
		if errors.Is(err, sql.ErrNoRows) {
			// Another press with the key committed after the lookup above
			// (on PostgreSQL a double tap runs beside its first tap): a
			// conflict, on which the App looks the key up again and answers
			// that voucher. A NULL key never conflicts.
			return app.Conflict("request_key_reused")
		}
		if err != nil {
			return err
		}
		// The new voucher as voucherSelect would read it back: every
		// column is what was just inserted or read in this transaction.
		var validFrom *time.Time
		if in.ValidFrom != nil {
			t := in.ValidFrom.UTC()
			validFrom = &t
		}
		issued = &app.Voucher{ID: id, Code: in.Code, CampaignID: in.CampaignID, TierID: in.TierID, ResidentID: in.ResidentID,
			Status: app.VoucherClaimed, Token: in.Token, ClaimedAt: now, ExpiresAt: in.ExpiresAt.UTC(), ValidFrom: validFrom,
			CampaignName: rules.Name, District: rules.District, Category: rules.Category,
			FaceFen: rules.FaceFen, ThresholdFen: rules.ThresholdFen, MaxBillFen: rules.MaxBillFen, AssistedBy: in.AssistedBy}
		if in.Audit != nil {
			e := *in.Audit
			e.At, e.EntityID = now.Truncate(time.Microsecond), id
			if err := s.appendAudit(ctx, tx, &e); err != nil {
				return err
			}
		}
		return rollClaim(ctx, tx, in.CampaignID, in.TierID, now)
	})
	switch {
	case err != nil:
		return app.Voucher{}, err
	case issued != nil:
		return *issued, nil
	}
	// A replay: read the earlier voucher through the read pool (the
	// writer is the one resource a rush queues for, and WAL shows the
	// committed row to a new reader).
	var v app.Voucher
	err = s.r.GetContext(ctx, &v, voucherSelect+` WHERE v.id = ?`, id)
	return v, err
}

func limitErr(err error, limit int) error {
	if e, ok := err.(*app.Error); ok {
		return e.With("limit", strconv.Itoa(limit))
	}
	return err
}

// releaseDueDrops releases, inside the claim's transaction, every drop of
// the tier whose time has come, as app.ReleaseDue says (the same rule every
// view reads through Campaign.AsOf): the first press after 10:00:00 sees
// the 10:00 stock, and no clock job is needed.
//
// The tier's row is locked before the drops are read (PostgreSQL, where
// many claims run at once; SQLite's one writer needs no lock): claims of
// the tier at the drop's second then release it one after the other, each
// reading the drops and the tier as the one before left them. The one that
// finds drops due also holds every bucket of the tier's stock while it
// reads and sets them, so that no claim of the tier runs beside a release.
func releaseDueDrops(ctx context.Context, tx *Tx, tierID int64, rollover bool, now time.Time) error {
	if tx.d.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT id FROM tiers WHERE id = ? FOR UPDATE`, tierID); err != nil {
			return err
		}
	}
	var due []app.Drop
	if err := tx.SelectContext(ctx, &due, `SELECT `+dropCols+` FROM drops WHERE tier_id = ? AND released_at IS NULL AND opens_at <= ?`,
		tierID, now.UTC()); err != nil || len(due) == 0 {
		// None left: a claim before this one released them. Only the
		// claim that releases holds every bucket (below), once per drop.
		return err
	}
	stock, err := lockStock(ctx, tx, tierID)
	if err != nil {
		return err
	}
	var t app.Tier
	if err := tx.GetContext(ctx, &t, `SELECT `+tierCols+` FROM counted(tiers) AS tiers WHERE id = ?`, tierID); err != nil {
		return notFound(err, "tier_not_found")
	}
	// The stock is the buckets' (the tier's remaining, on SQLite).
	t.Remaining = stock
	after, ids := app.ReleaseDue(t, due, rollover, now)
	// remaining moves by what the release adds less what lapses: on
	// PostgreSQL the row's own figure may still lack claims not yet folded.
	if err := guarded(tx.ExecContext(ctx, `UPDATE tiers SET released = ?, remaining = remaining + ?, lapsed = ? WHERE id = ? AND released = ?`,
		after.Released, after.Remaining-t.Remaining, after.Lapsed, tierID, t.Released))("tier_changed"); err != nil {
		return err
	}
	if err := setStock(ctx, tx, `CAST(?2 AS bigint)`, `t.id = ?1`, tierID, after.Remaining); err != nil {
		return err
	}
	q, args, err := sqlx.In(`UPDATE drops SET released_at = ? WHERE id IN (?) AND released_at IS NULL`, now.UTC(), ids)
	if err != nil {
		return err
	}
	// Every drop counted into the tier above must be released here, by
	// this step alone. On PostgreSQL, where steps run at once and each
	// statement reads what was committed when it began, another claim can
	// release the drop between the read of the drops and the read of the
	// tier; the tier guard then holds, and the drop would count twice.
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n != int64(len(ids)) {
		err = app.Conflict("tier_changed")
	}
	return err
}

// VoucherByRequestKey finds the voucher a resident's earlier press with
// the same key produced.
func (s *Store) VoucherByRequestKey(ctx context.Context, residentID int64, key string) (app.Voucher, error) {
	var v app.Voucher
	err := s.r.GetContext(ctx, &v, voucherSelect+` WHERE v.resident_id = ? AND v.request_key = ?`, residentID, key)
	return v, notFound(err, "voucher_unknown")
}

// ResidentClaimCount is how many vouchers a resident claimed of a campaign.
func (s *Store) ResidentClaimCount(ctx context.Context, campaignID, residentID int64) (int, error) {
	var n int
	err := s.r.GetContext(ctx, &n, `SELECT COALESCE((SELECT claimed FROM resident_claims WHERE campaign_id = ? AND resident_id = ?), 0)`,
		campaignID, residentID)
	return n, err
}

// VoucherByCode finds a voucher by its manual code.
func (s *Store) VoucherByCode(ctx context.Context, code string) (app.Voucher, error) {
	var v app.Voucher
	err := s.r.GetContext(ctx, &v, voucherSelect+` WHERE v.code = ?`, code)
	return v, notFound(err, "voucher_unknown")
}

// ResidentVouchers lists a resident's vouchers, newest first.
func (s *Store) ResidentVouchers(ctx context.Context, residentID int64) ([]app.Voucher, error) {
	var vs []app.Voucher
	err := s.r.SelectContext(ctx, &vs, voucherSelect+` WHERE v.resident_id = ? ORDER BY v.claimed_at DESC, v.id DESC`, residentID)
	return vs, err
}

const redemptionCols = `id, voucher_id, campaign_id, merchant_id, cashier_id, bill_fen, discount_fen, idempotency_key, created_at,
	reversed_at, reversed_by, wait_s`

// Redeem carries out one redemption in one transaction; see app.RedeemInsert.
func (s *Store) Redeem(ctx context.Context, in app.RedeemInsert) (app.Redemption, error) {
	var red app.Redemption
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		// Replays first: a retry gets its stored receipt whatever happened
		// since (the voucher expired, the campaign paused, the merchant
		// was suspended), or the cashier would charge full price while the
		// merchant is still paid for the first try.
		err := tx.GetContext(ctx, &red, `SELECT `+redemptionCols+` FROM redemptions WHERE merchant_id = ? AND idempotency_key = ?`,
			in.MerchantID, in.Key)
		if err == nil {
			if red.VoucherID != in.VoucherID || red.BillFen != in.BillFen {
				return app.Conflict("idempotency_key_reused")
			}
			if red.ReversedAt != nil {
				return app.Conflict("redemption_reversed")
			}
			red.Replayed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Every condition is the stored state at the writer's time: the
		// voucher unexpired and not counted by the expiry sweep (lapsed_at,
		// which holds even if the clock steps back after the sweep), its own
		// campaign live or ended and its own tier's discount for this bill,
		// the merchant approved and its day not yet paid.
		if err := s.lockMerchantDay(ctx, tx, in.MerchantID, app.LocalDay(now), false); err != nil {
			return err
		}
		var v voucherFacts
		err = tx.GetContext(ctx, &v, `UPDATE vouchers SET status = 'redeemed', redeemed_at = ?
			WHERE id = ? AND status = 'claimed' AND lapsed_at IS NULL AND expires_at > ?
			AND (valid_from IS NULL OR valid_from <= ?)
			AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = vouchers.campaign_id AND c.status IN ('approved', 'ended')
				AND ? <= c.max_bill_fen)
			AND EXISTS (SELECT 1 FROM tiers t WHERE t.id = vouchers.tier_id AND t.campaign_id = vouchers.campaign_id
				AND ? >= t.threshold_fen AND ? = least(t.face_fen, ?))
			AND EXISTS (SELECT 1 FROM merchants WHERE id = ? AND status = 'approved')
			AND NOT EXISTS (SELECT 1 FROM settlements p WHERE p.merchant_id = ? AND p.day = ?
				AND p.funding_district = (SELECT district_code FROM campaigns c WHERE c.id = vouchers.campaign_id))
			RETURNING campaign_id, tier_id, resident_id, claimed_at,
				(SELECT threshold_fen FROM tiers t WHERE t.id = vouchers.tier_id) AS threshold_fen`,
			now, in.VoucherID, now, now, in.BillFen, in.BillFen, in.DiscountFen, in.BillFen,
			in.MerchantID, in.MerchantID, app.LocalDay(now))
		if errors.Is(err, sql.ErrNoRows) {
			return whyNotRedeemable(ctx, tx, in, now)
		}
		if err != nil {
			return err
		}
		red = app.Redemption{VoucherID: in.VoucherID, CampaignID: v.CampaignID, MerchantID: in.MerchantID, CashierID: in.CashierID,
			BillFen: in.BillFen, DiscountFen: in.DiscountFen, IdempotencyKey: in.Key, CreatedAt: now,
			WaitS: app.ClaimToRedeemSeconds(v.ClaimedAt, now)}
		id, err := tx.insertID(ctx, `INSERT INTO redemptions (voucher_id, campaign_id, merchant_id, cashier_id, bill_fen,
			discount_fen, idempotency_key, created_at, wait_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			red.VoucherID, red.CampaignID, red.MerchantID, red.CashierID, red.BillFen, red.DiscountFen, red.IdempotencyKey, red.CreatedAt, red.WaitS)
		if err != nil {
			return err
		}
		red.ID = id
		if err := addCounter(ctx, tx, tierRedemptions, v.TierID, nil, 1, 0); err != nil {
			return err
		}
		if err := rollRedemption(ctx, tx, red, v, +1); err != nil {
			return err
		}
		// The budget guard can only fail if tiers were committed beyond the
		// budget, which validation forbids; it is here so that no bug can
		// overspend. Its row is the campaign's, which every redemption of the
		// campaign updates: last, so that on PostgreSQL its lock is held for
		// as little of the transaction as can be.
		return guarded(tx.ExecContext(ctx, `UPDATE campaigns SET redeemed_count = redeemed_count + 1,
			subsidy_fen = subsidy_fen + ?, consumption_fen = consumption_fen + ?
			WHERE id = ? AND subsidy_fen + ? <= budget_fen`, in.DiscountFen, in.BillFen, v.CampaignID, in.DiscountFen))("budget_exhausted")
	})
	return red, err
}

// whyNotRedeemable names, inside the refused redemption's transaction and
// at its time, the first condition of the guarded update that failed.
func whyNotRedeemable(ctx context.Context, tx *Tx, in app.RedeemInsert, now time.Time) error {
	var st struct {
		Status    string     `db:"status"`
		Voided    bool       `db:"voided"`
		Lapsed    bool       `db:"lapsed"`
		ExpiresAt time.Time  `db:"expires_at"`
		ValidFrom *time.Time `db:"valid_from"`
		Campaign  string     `db:"campaign_status"`
		MaxBill   int64      `db:"max_bill_fen"`
		Threshold int64      `db:"threshold_fen"`
		Face      int64      `db:"face_fen"`
		Merchant  string     `db:"merchant_status"`
		Paid      bool       `db:"paid"`
	}
	err := tx.GetContext(ctx, &st, `SELECT v.status, v.voided_at IS NOT NULL AS voided, v.lapsed_at IS NOT NULL AS lapsed, v.expires_at, v.valid_from,
		c.status AS campaign_status, c.max_bill_fen, t.threshold_fen, t.face_fen,
		(SELECT status FROM merchants WHERE id = ?) AS merchant_status,
		EXISTS (SELECT 1 FROM settlements p WHERE p.merchant_id = ? AND p.day = ? AND p.funding_district = c.district_code) AS paid
		FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id JOIN tiers t ON t.id = v.tier_id WHERE v.id = ?`,
		in.MerchantID, in.MerchantID, app.LocalDay(now), in.VoucherID)
	switch {
	case err != nil:
		return notFound(err, "voucher_unknown")
	case st.Status == app.VoucherRedeemed:
		return app.Conflict("already_redeemed")
	case st.Voided:
		return app.Conflict("voucher_voided")
	case st.Lapsed || !now.Before(st.ExpiresAt):
		return app.Conflict("expired").With("expired_at", app.FormatUntil(st.ExpiresAt))
	case st.ValidFrom != nil && now.Before(*st.ValidFrom):
		return app.Conflict("not_yet_valid").With("from", app.FormatLocal(*st.ValidFrom))
	case st.Campaign == app.StatusPaused:
		return app.Conflict("campaign_paused")
	case st.Campaign != app.StatusApproved && st.Campaign != app.StatusEnded:
		return app.Conflict("campaign_inactive")
	case st.Merchant != app.MerchantApproved:
		return app.Forbidden("merchant_inactive")
	case st.Paid:
		return app.Conflict("day_closed")
	case int64(in.BillFen) > st.MaxBill:
		return app.Invalid("bill_too_large").With("max", app.Fen(st.MaxBill).Yuan())
	case int64(in.BillFen) < st.Threshold:
		return app.Conflict("below_threshold").With("threshold", app.Fen(st.Threshold).Yuan())
	}
	return app.Conflict("not_redeemable")
}

// RedemptionByKey finds a merchant's redemption stored under an
// idempotency key, for answering a retry before any rule.
func (s *Store) RedemptionByKey(ctx context.Context, merchantID int64, key string) (app.Redemption, error) {
	var red app.Redemption
	err := s.r.GetContext(ctx, &red, `SELECT `+redemptionCols+` FROM redemptions WHERE merchant_id = ? AND idempotency_key = ?`, merchantID, key)
	return red, notFound(err, "redemption_not_found")
}

// RedemptionOf returns the redemption of a voucher and its merchant's name.
func (s *Store) RedemptionOf(ctx context.Context, voucherID int64) (app.Redemption, string, error) {
	var row struct {
		app.Redemption
		MerchantName string `db:"merchant_name"`
	}
	err := s.r.GetContext(ctx, &row, `SELECT r.id, r.voucher_id, r.campaign_id, r.merchant_id, r.cashier_id, r.bill_fen,
		r.discount_fen, r.idempotency_key, r.created_at, r.reversed_at, r.reversed_by, m.name AS merchant_name
		FROM redemptions r JOIN merchants m ON m.id = r.merchant_id WHERE r.voucher_id = ? AND r.reversed_at IS NULL`, voucherID)
	return row.Redemption, row.MerchantName, notFound(err, "redemption_not_found")
}

// LastReversal returns when a voucher's latest reversed redemption was
// reversed, or nil when none was.
func (s *Store) LastReversal(ctx context.Context, voucherID int64) (*time.Time, error) {
	var at []time.Time
	err := s.r.SelectContext(ctx, &at, `SELECT reversed_at FROM redemptions
		WHERE voucher_id = ? AND reversed_at IS NOT NULL ORDER BY reversed_at DESC LIMIT 1`, voucherID)
	if err != nil || len(at) == 0 {
		return nil, err
	}
	return &at[0], nil
}

// Reverse undoes a redemption on a refund, in one transaction at the
// writer's time: the redemption is marked reversed (guarded: same merchant,
// not reversed yet, made inside the reversal window as app.ReversalWindowStart
// sets it at that time; if its day is paid, a clawback of its subsidy is
// recorded), the voucher returns to its holder with its original expiry,
// and every rollup gives back what the redemption added.
func (s *Store) Reverse(ctx context.Context, in app.ReverseInsert) (app.Redemption, error) {
	var red app.Redemption
	err := s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := tx.GetContext(ctx, &red, `SELECT `+redemptionCols+` FROM redemptions WHERE id = ? AND merchant_id = ?`,
			in.RedemptionID, in.MerchantID); err != nil {
			return notFound(err, "redemption_not_found")
		}
		window := app.ReversalWindowStart(now)
		switch {
		case red.ReversedAt != nil:
			return app.Conflict("already_reversed")
		case red.CreatedAt.Before(window):
			return app.Conflict("reversal_window")
		}
		// The merchant-day lock orders this against a payment of the day on
		// PostgreSQL: either the payment sees the reversal, or the reversal
		// sees the payment and claws the subsidy back.
		day := app.LocalDay(red.CreatedAt)
		if err := s.lockMerchantDay(ctx, tx, in.MerchantID, day, false); err != nil {
			return err
		}
		if err := guarded(tx.ExecContext(ctx, `UPDATE redemptions SET reversed_at = ?, reversed_by = ?
			WHERE id = ? AND merchant_id = ? AND reversed_at IS NULL AND created_at >= ?`,
			now, in.CashierID, in.RedemptionID, in.MerchantID, window))("already_reversed"); err != nil {
			return err
		}
		// A paid day keeps what was paid: the merchant now holds a subsidy
		// the campaign no longer counts, which its next payment from the
		// same fund nets (a clawback).
		res, err := tx.ExecContext(ctx, `INSERT INTO clawbacks (redemption_id, merchant_id, funding_district, day, subsidy_fen, consumption_fen, created_at)
			SELECT ?, ?, p.funding_district, p.day, ?, ?, ? FROM settlements p
			WHERE p.merchant_id = ? AND p.day = ? AND p.funding_district = (SELECT district_code FROM campaigns c WHERE c.id = ?)`,
			red.ID, in.MerchantID, red.DiscountFen, red.BillFen, now, in.MerchantID, day, red.CampaignID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			red.ClawbackFen = red.DiscountFen
		}
		var v voucherFacts
		if err := tx.GetContext(ctx, &v, `SELECT v.campaign_id, v.tier_id, v.resident_id, v.claimed_at, t.threshold_fen
			FROM vouchers v JOIN tiers t ON t.id = v.tier_id WHERE v.id = ?`, red.VoucherID); err != nil {
			return err
		}
		if err := guarded(tx.ExecContext(ctx, `UPDATE vouchers SET status = 'claimed', redeemed_at = NULL WHERE id = ? AND status = 'redeemed'`,
			red.VoucherID))("voucher_not_redeemed"); err != nil {
			return err
		}
		if err := addCounter(ctx, tx, tierRedemptions, v.TierID, nil, -1, 1); err != nil {
			return err
		}
		if err := rollRedemption(ctx, tx, red, v, -1); err != nil {
			return err
		}
		at, by := now, in.CashierID
		red.ReversedAt, red.ReversedBy = &at, &by
		if err := rollReversal(ctx, tx, red, v.TierID, now); err != nil {
			return err
		}
		// The campaign's row last, as for a redemption.
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET redeemed_count = redeemed_count - 1, reversed_count = reversed_count + 1,
			subsidy_fen = subsidy_fen - ?, consumption_fen = consumption_fen - ? WHERE id = ?`, red.DiscountFen, red.BillFen, red.CampaignID)
		return err
	})
	return red, err
}

// MerchantRedemptions lists a merchant's redemptions made in [from, to),
// newest first, with the campaign's name and the voucher's code.
func (s *Store) MerchantRedemptions(ctx context.Context, merchantID int64, from, to time.Time) ([]app.RedemptionLine, error) {
	var out []app.RedemptionLine
	err := s.r.SelectContext(ctx, &out, `SELECT r.id, r.voucher_id, r.campaign_id, r.merchant_id, r.cashier_id, r.bill_fen,
		r.discount_fen, r.idempotency_key, r.created_at, r.reversed_at, r.reversed_by, c.name AS campaign_name, v.code AS voucher_code,
		EXISTS (SELECT 1 FROM settlements p WHERE p.merchant_id = r.merchant_id AND p.day = local_day(r.created_at)
			AND p.funding_district = c.district_code) AS paid
		FROM redemptions r JOIN campaigns c ON c.id = r.campaign_id JOIN vouchers v ON v.id = r.voucher_id
		WHERE r.merchant_id = ? AND r.created_at >= ? AND r.created_at < ? ORDER BY r.id DESC LIMIT 1000`,
		merchantID, from.UTC(), to.UTC())
	return out, err
}

// MarkPrinted records that the card of an assisted voucher was printed
// (the first time stays the one kept) and appends the print's audit row,
// in one transaction. A voucher not claimed at a station is not found.
func (s *Store) MarkPrinted(ctx context.Context, voucherID int64, audit app.AuditEntry) error {
	return s.txAt(ctx, func(ctx context.Context, tx *Tx, now time.Time) error {
		if err := guarded(tx.ExecContext(ctx, `UPDATE vouchers SET printed_at = COALESCE(printed_at, ?)
			WHERE id = ? AND assisted_by IS NOT NULL`, now, voucherID))("voucher_unknown"); app.ErrorCode(err) == app.ECONFLICT {
			return app.NotFound("voucher_unknown")
		} else if err != nil {
			return err
		}
		audit.At = now.Truncate(time.Microsecond)
		return s.appendAudit(ctx, tx, &audit)
	})
}
