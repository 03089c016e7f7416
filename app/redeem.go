package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"cqvoucher/app/token"
)

// RedeemInsert is one redemption as the store must carry it out, in one
// transaction: a redemption already stored under (MerchantID, Key) is
// returned as it is (Replayed) if it was for the same voucher and bill, and
// refused otherwise; else the voucher moves claimed → redeemed by a guarded
// update that also requires it unexpired at At, its campaign approved and
// the merchant approved (and, with fixed validity, its first day come); the
// redemption row is inserted; rollups bumped.
type RedeemInsert struct {
	VoucherID  int64
	CampaignID int64
	TierID     int64
	MerchantID int64
	// The voucher's facts the evaluation rollups need, as already read.
	ResidentID   int64
	ClaimedAt    time.Time
	ThresholdFen Fen
	CashierID    int64
	BillFen      Fen
	DiscountFen  Fen
	Key          string
	At           time.Time
}

// Quote is what the cashier sees before confirming: the voucher and, once a
// bill is known, the discount and what is left to pay.
type Quote struct {
	Voucher     Voucher  `json:"voucher"`
	Merchant    Merchant `json:"-"`
	BillFen     Fen      `json:"bill_fen"`
	DiscountFen Fen      `json:"discount_fen"`
	PayFen      Fen      `json:"pay_fen"`
}

// Receipt is a completed redemption.
type Receipt struct {
	Quote
	Redemption Redemption `json:"redemption"`
}

// maxScanLen bounds what a cashier's field may carry: a QR text is well under it.
const maxScanLen = 2048

// lookupScanned finds the voucher behind what a cashier scanned or typed: a
// manual code, a bare token or a voucher URL. A token must verify; a
// manual code is itself an 80-bit secret.
func (a *App) lookupScanned(ctx context.Context, scanned string) (Voucher, error) {
	scanned = strings.TrimSpace(scanned)
	if scanned == "" {
		return Voucher{}, &Error{Code: EINVALID, Reason: "scan_empty", Fields: map[string]string{"voucher": "scan_empty"}}
	}
	if len(scanned) > maxScanLen {
		return Voucher{}, Invalid("forged")
	}
	if code, ok := token.NormalizeCode(scanned); ok {
		v, err := a.store.VoucherByCode(ctx, code)
		if ErrorCode(err) == ENOTFOUND {
			return Voucher{}, NotFound("voucher_unknown")
		}
		return v, err
	}
	claims, err := a.ring.Verify(token.ExtractToken(scanned), a.now(), a.knownIssuer)
	switch {
	case errors.Is(err, token.ErrExpired):
		return Voucher{}, Conflict("expired")
	case errors.Is(err, token.ErrNotYetValid):
		return Voucher{}, Conflict("not_yet_valid")
	case err != nil:
		a.log.Warn("voucher token rejected", "err", err)
		return Voucher{}, Invalid("forged")
	}
	v, err := a.store.VoucherByCode(ctx, claims.Code)
	if ErrorCode(err) == ENOTFOUND {
		return Voucher{}, Invalid("forged") // signed by us, yet never issued: a stolen key or a bug
	}
	if err != nil {
		return Voucher{}, err
	}
	if v.CampaignID != claims.CampaignID || v.TierID != claims.TierID || int64(v.FaceFen) != claims.FaceFen {
		return Voucher{}, Invalid("forged")
	}
	return v, nil
}

// knownIssuer accepts the district codes of the reference data. They are
// loaded once: reference data is seeded before the server starts, and a
// token check must not cost a database read.
func (a *App) knownIssuer(iss string) bool {
	codes := a.districtCodes.Load()
	if codes == nil {
		ds, err := a.store.Districts(context.Background())
		if err != nil || len(ds) == 0 {
			return false
		}
		set := make(map[string]bool, len(ds))
		for _, d := range ds {
			set[d.Code] = true
		}
		a.districtCodes.Store(&set)
		codes = &set
	}
	return (*codes)[iss]
}

// Inspect checks a scanned voucher for the cashier's merchant without
// redeeming it. bill may be 0 while the cashier has not typed it yet.
func (a *App) Inspect(ctx context.Context, cs Cashier, scanned string, bill Fen) (Quote, error) {
	v, err := a.lookupScanned(ctx, scanned)
	if err != nil {
		return Quote{}, err
	}
	m, err := a.store.MerchantByID(ctx, cs.MerchantID)
	if err != nil {
		return Quote{}, err
	}
	q := Quote{Voucher: v, Merchant: m, BillFen: bill}
	if v.Status == VoucherRedeemed {
		return q, a.alreadyRedeemed(ctx, v)
	}
	if err := a.checkRules(ctx, v, m); err != nil {
		return q, err
	}
	if bill > 0 {
		if q.DiscountFen, err = discount(v, bill); err != nil {
			return q, err
		}
		q.PayFen = bill - q.DiscountFen
	}
	return q, nil
}

// checkRules applies the rules that depend neither on the bill nor on
// whether the voucher was used already.
func (a *App) checkRules(ctx context.Context, v Voucher, m Merchant) error {
	now := a.now()
	if !now.Before(v.ExpiresAt) {
		return Conflict("expired").With("expired_at", FormatLocal(v.ExpiresAt))
	}
	if v.ValidFrom != nil && now.Before(*v.ValidFrom) {
		return Conflict("not_yet_valid").With("from", FormatLocal(*v.ValidFrom))
	}
	if m.Status != MerchantApproved {
		return Forbidden("merchant_inactive")
	}
	// The cached copy serves here: a pause by an officer forgets it at
	// once, and the redemption's own guarded update re-checks the status.
	c, err := a.cachedCampaign(ctx, v.CampaignID)
	if err != nil {
		return err
	}
	switch c.Status {
	case StatusApproved, StatusEnded:
	case StatusPaused:
		return Conflict("campaign_paused")
	default:
		return Conflict("campaign_inactive")
	}
	if !c.Accepts(m) {
		switch {
		case containsID(c.Exclude, m.ID):
			return Conflict("merchant_excluded")
		case !c.hasCategory(m.Category):
			return Conflict("wrong_category")
		default:
			return Conflict("wrong_district")
		}
	}
	return nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (a *App) alreadyRedeemed(ctx context.Context, v Voucher) error {
	red, merchant, err := a.store.RedemptionOf(ctx, v.ID)
	if err != nil {
		return err
	}
	return Conflict("already_redeemed").With("at", FormatLocal(red.CreatedAt)).With("merchant", merchant)
}

// discount is what the voucher takes off a bill: its face value once the
// bill reaches the threshold; a voucher without threshold takes at most the bill.
func discount(v Voucher, bill Fen) (Fen, error) {
	if bill <= 0 {
		return 0, &Error{Code: EINVALID, Reason: "bill_required", Fields: map[string]string{"bill": "bill_required"}}
	}
	if v.ThresholdFen > 0 && bill < v.ThresholdFen {
		return 0, Conflict("below_threshold").With("threshold", v.ThresholdFen.Yuan())
	}
	return min(v.FaceFen, bill), nil
}

// Redeem uses a voucher at the cashier's merchant against a bill. key makes
// it idempotent: a retry with the same key gets the first answer back; the
// same key with another voucher or bill is refused.
func (a *App) Redeem(ctx context.Context, cs Cashier, scanned string, bill Fen, key string) (Receipt, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 64 {
		return Receipt{}, Invalid("idempotency_key_invalid")
	}
	v, err := a.lookupScanned(ctx, scanned)
	if err != nil {
		return Receipt{}, err
	}
	m, err := a.store.MerchantByID(ctx, cs.MerchantID)
	if err != nil {
		return Receipt{}, err
	}
	// Status is left to the guarded update: a retry of a redemption that
	// succeeded must reach the store to get its first answer back.
	if err := a.checkRules(ctx, v, m); err != nil {
		return Receipt{}, err
	}
	d, err := discount(v, bill)
	if err != nil {
		return Receipt{}, err
	}
	q := Quote{Voucher: v, Merchant: m, BillFen: bill, DiscountFen: d, PayFen: bill - d}
	red, err := a.store.Redeem(ctx, RedeemInsert{
		VoucherID: v.ID, CampaignID: v.CampaignID, TierID: v.TierID, MerchantID: m.ID, CashierID: cs.ID,
		ResidentID: v.ResidentID, ClaimedAt: v.ClaimedAt, ThresholdFen: v.ThresholdFen,
		BillFen: bill, DiscountFen: d, Key: key, At: a.now(),
	})
	if err != nil {
		// The guarded update said no: tell the cashier why in words.
		if ErrorReason(err) == "not_redeemable" {
			if fresh, ferr := a.store.VoucherByCode(ctx, v.Code); ferr == nil && fresh.Status == VoucherRedeemed {
				return Receipt{}, a.alreadyRedeemed(ctx, fresh)
			}
			if fresh, ferr := a.store.MerchantByID(ctx, m.ID); ferr == nil {
				if why := a.checkRules(ctx, v, fresh); why != nil {
					return Receipt{}, why
				}
			}
		}
		return Receipt{}, err
	}
	if !red.Replayed {
		v.Status, v.RedeemedAt = VoucherRedeemed, &red.CreatedAt
		a.log.Info("voucher redeemed", "voucher", v.ID, "merchant", m.ID, "bill_fen", int64(bill), "discount_fen", int64(d))
	}
	q.Voucher = v
	return Receipt{Quote: q, Redemption: red}, nil
}
