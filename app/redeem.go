package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"cqvoucher/app/token"
)

// RedeemInsert is one redemption as the store must carry it out, in one
// transaction, at the time the writer reads after BEGIN: a redemption
// already stored under (MerchantID, Key) is returned as it is (Replayed) if
// it was for the same voucher and bill, and refused otherwise; else the
// voucher moves claimed → redeemed by a guarded update that decides from
// stored state alone: not lapsed and unexpired, its first day come, its own
// campaign approved or ended and its own tier's discount equal to
// DiscountFen for BillFen (within the campaign's bill maximum), the
// merchant approved and its statement of the day not paid. The redemption
// row is inserted and the rollups bumped. The caller's view of the voucher
// is never trusted for its campaign, tier or holder.
type RedeemInsert struct {
	VoucherID   int64
	MerchantID  int64
	CashierID   int64
	BillFen     Fen
	DiscountFen Fen
	Key         string
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
// manual code, a bare token or a voucher URL. A token must verify. A typed
// code must pass its check digit, and is held to the wrong-code limits of
// the cashier and the merchant (see WrongCodeLimit); a scanned token is
// not, since its signature cannot be guessed.
//
// at is the time the token must be valid at: now for a new redemption, the
// stored redemption's time for a replay.
func (a *App) lookupScanned(ctx context.Context, cs Cashier, scanned string, at time.Time) (Voucher, error) {
	scanned = strings.TrimSpace(scanned)
	if scanned == "" {
		return Voucher{}, &Error{Code: EINVALID, Reason: "scan_empty", Fields: map[string]string{"voucher": "scan_empty"}}
	}
	if len(scanned) > maxScanLen {
		return Voucher{}, Invalid("forged")
	}
	if code, ok := token.NormalizeCode(scanned); ok {
		return a.lookupTyped(ctx, cs, code)
	}
	claims, err := a.ring.Verify(token.ExtractToken(scanned), at, a.knownIssuer)
	switch {
	case errors.Is(err, token.ErrExpired):
		return Voucher{}, Conflict("expired")
	case errors.Is(err, token.ErrNotYetValid):
		return Voucher{}, Conflict("not_yet_valid")
	case err != nil:
		a.log.WarnContext(ctx, "voucher token rejected", "err", err)
		return Voucher{}, Invalid("forged")
	}
	v, err := a.store.VoucherByCode(ctx, claims.Code)
	if ErrorCode(err) == ENOTFOUND {
		return Voucher{}, Invalid("forged") // signed by us, yet never issued: a stolen key or a bug
	}
	if err != nil {
		return Voucher{}, err
	}
	// Campaign, tier and face value are the stored voucher's. A legacy
	// token names them too, and must agree; a compact one does not, and
	// nothing is read from it but the code.
	if claims.Terms && (v.CampaignID != claims.CampaignID || v.TierID != claims.TierID || int64(v.FaceFen) != claims.FaceFen) {
		return Voucher{}, Invalid("forged")
	}
	return v, nil
}

// lookupTyped finds the voucher of a typed, normalised manual code.
func (a *App) lookupTyped(ctx context.Context, cs Cashier, code string) (Voucher, error) {
	if token.CodeMistyped(code) {
		// Refused before any lookup, and not counted as a guess: the
		// check digit says a digit was misheard or two were swapped.
		return Voucher{}, &Error{Code: EINVALID, Reason: "code_mistyped", Fields: map[string]string{"voucher": "code_mistyped"}}
	}
	now := a.now()
	release, retryAt, ok := a.wrongCodes.reserve(a.wrongCodeKeys(cs), now)
	if !ok {
		return Voucher{}, tooManyWrongCodes(now, retryAt)
	}
	v, err := a.store.VoucherByCode(ctx, code)
	if ErrorCode(err) == ENOTFOUND {
		a.log.InfoContext(ctx, "typed voucher code matches no voucher", "cashier", cs.ID, "merchant", cs.MerchantID)
		return Voucher{}, NotFound("voucher_unknown")
	}
	// A voucher's code (or a failed read, which proves nothing) is no
	// wrong code.
	release()
	return v, err
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
	v, err := a.lookupScanned(ctx, cs, scanned, a.now())
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
	if v.VoidedAt != nil {
		return Conflict("voucher_voided")
	}
	if !now.Before(v.ExpiresAt) {
		return Conflict("expired").With("expired_at", FormatUntil(v.ExpiresAt))
	}
	if v.ValidFrom != nil && now.Before(*v.ValidFrom) {
		return Conflict("not_yet_valid").With("from", FormatLocal(*v.ValidFrom))
	}
	if m.Status != MerchantApproved {
		return Forbidden("merchant_inactive")
	}
	// The cached copy serves here: a pause by an officer forgets it at
	// once, and the redemption's own guarded update re-checks the status.
	c, _, err := a.cachedCampaign(ctx, v.CampaignID)
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
	if v.MaxBillFen > 0 && bill > v.MaxBillFen {
		return 0, (&Error{Code: EINVALID, Reason: "bill_too_large", Fields: map[string]string{"bill": "bill_too_large"}}).
			With("max", v.MaxBillFen.Yuan())
	}
	if v.ThresholdFen > 0 && bill < v.ThresholdFen {
		return 0, Conflict("below_threshold").With("threshold", v.ThresholdFen.Yuan())
	}
	return min(v.FaceFen, bill), nil
}

// Redeem uses a voucher at the cashier's merchant against a bill. key makes
// it idempotent: a retry with the same key gets the first answer back,
// before any rule is looked at again; the same key with another voucher or
// bill is refused.
func (a *App) Redeem(ctx context.Context, cs Cashier, scanned string, bill Fen, key string) (Receipt, error) {
	rc, err := a.redeem(ctx, cs, scanned, bill, strings.TrimSpace(key))
	outcome := outcomeOf(err, "redeemed")
	if err == nil && rc.Redemption.Replayed {
		outcome = "replayed"
	}
	a.obs.Redemption(outcome)
	return rc, err
}

func (a *App) redeem(ctx context.Context, cs Cashier, scanned string, bill Fen, key string) (Receipt, error) {
	if key == "" || len(key) > 64 {
		return Receipt{}, Invalid("idempotency_key_invalid")
	}
	if rc, ok, err := a.replayedRedemption(ctx, cs, scanned, bill, key); ok || err != nil {
		return rc, err
	}
	rc, err := a.redeemOnce(ctx, cs, scanned, bill, key)
	if err != nil && ErrorCode(err) != EINTERNAL {
		// The first try may have committed after the lookup above (a POS
		// that timed out and retried while its first try waited for the
		// writer) and changed what the rules now say — the voucher is
		// redeemed, or midnight passed since. Refusing the retry would have
		// the cashier charge full price while the merchant is paid; state
		// seen after that commit shows it, so look again before refusing.
		if rc, ok, rerr := a.replayedRedemption(ctx, cs, scanned, bill, key); ok || rerr != nil {
			return rc, rerr
		}
	}
	return rc, err
}

func (a *App) redeemOnce(ctx context.Context, cs Cashier, scanned string, bill Fen, key string) (Receipt, error) {
	v, err := a.lookupScanned(ctx, cs, scanned, a.now())
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
	red, err := a.store.Redeem(ctx, RedeemInsert{VoucherID: v.ID, MerchantID: m.ID, CashierID: cs.ID, BillFen: bill, DiscountFen: d, Key: key})
	if ErrorReason(err) == "already_redeemed" {
		// Tell the cashier where and when, in words.
		return Receipt{}, a.alreadyRedeemed(ctx, v)
	}
	if err != nil {
		return Receipt{}, err
	}
	if !red.Replayed {
		v.Status, v.RedeemedAt = VoucherRedeemed, &red.CreatedAt
		a.log.InfoContext(ctx, "voucher redeemed", "voucher", v.ID, "merchant", m.ID, "bill_fen", int64(bill), "discount_fen", int64(d))
	}
	q.Voucher = v
	return Receipt{Quote: q, Redemption: red}, nil
}

// replayedRedemption answers a retry from its stored redemption: the
// scanned voucher is looked up as it was when that redemption was made
// (its token valid then), and must be the same voucher with the same bill.
func (a *App) replayedRedemption(ctx context.Context, cs Cashier, scanned string, bill Fen, key string) (Receipt, bool, error) {
	red, err := a.store.RedemptionByKey(ctx, cs.MerchantID, key)
	if ErrorCode(err) == ENOTFOUND {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, err
	}
	v, err := a.lookupScanned(ctx, cs, scanned, red.CreatedAt)
	if err != nil {
		return Receipt{}, false, err
	}
	if v.ID != red.VoucherID || bill != red.BillFen {
		return Receipt{}, false, Conflict("idempotency_key_reused")
	}
	if red.ReversedAt != nil {
		return Receipt{}, false, Conflict("redemption_reversed")
	}
	m, err := a.store.MerchantByID(ctx, cs.MerchantID)
	if err != nil {
		return Receipt{}, false, err
	}
	red.Replayed = true
	return Receipt{Quote: Quote{Voucher: v, Merchant: m, BillFen: red.BillFen, DiscountFen: red.DiscountFen, PayFen: red.PayFen()},
		Redemption: red}, true, nil
}
