package app

import (
	"context"
	"time"
)

// ReverseInsert is one reversal as the store must carry it out, at the
// writer's time: the merchant's own redemption, not reversed yet, made at
// or after ReversalWindowStart of that time; if its day is paid, with a
// Clawback of its subsidy in the same transaction.
type ReverseInsert struct {
	RedemptionID int64
	MerchantID   int64
	CashierID    int64
}

// RedemptionLine is a redemption with what a merchant's list shows.
type RedemptionLine struct {
	Redemption
	CampaignName string `db:"campaign_name" json:"campaign_name"`
	VoucherCode  string `db:"voucher_code" json:"voucher_code"`
	// Paid is whether its day's statement is paid: reversing it then
	// claws its subsidy back from the next payment.
	Paid bool `db:"paid" json:"paid"`
}

// RefundDays is the policy: a refund at the counter may reverse a
// redemption made on that day or the RefundDays-1 days before
// (Asia/Shanghai). A day's statement may be paid meanwhile: a reversal of
// a paid day makes a Clawback, netted against the merchant's next payment.
const RefundDays = 7

// ReversalWindowStart is the earliest time a redemption reversed at now
// may have been made: midnight RefundDays-1 days before now's day. The
// store applies it at its own time, inside the reversal's transaction.
func ReversalWindowStart(now time.Time) time.Time {
	l := now.In(Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day()-(RefundDays-1), 0, 0, 0, 0, Shanghai).UTC()
}

// startOfDay is midnight (Asia/Shanghai) of now's day.
func startOfDay(now time.Time) time.Time {
	l := now.In(Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, Shanghai).UTC()
}

// Reverse undoes one of the cashier's merchant's redemptions on a refund:
// the voucher goes back to its holder with its original expiry, and the
// campaign's counters and budget follow.
func (a *App) Reverse(ctx context.Context, cs Cashier, redemptionID int64) (Redemption, error) {
	red, err := a.store.Reverse(ctx, ReverseInsert{RedemptionID: redemptionID, MerchantID: cs.MerchantID, CashierID: cs.ID})
	if err != nil {
		return red, err
	}
	a.forgetCampaign(ctx, red.CampaignID)
	a.log.InfoContext(ctx, "redemption reversed", "redemption", red.ID, "voucher", red.VoucherID, "merchant", cs.MerchantID, "cashier", cs.ID,
		"clawback_fen", int64(red.ClawbackFen))
	return red, nil
}

// TodaysRedemptions lists the merchant's redemptions of today (Asia/Shanghai).
func (a *App) TodaysRedemptions(ctx context.Context, cs Cashier) ([]RedemptionLine, error) {
	from := startOfDay(a.now())
	return a.store.MerchantRedemptions(ctx, cs.MerchantID, from, from.Add(24*time.Hour))
}

// RefundableRedemptions lists the merchant's redemptions that a refund
// may still reverse: those of the last RefundDays days, newest first.
func (a *App) RefundableRedemptions(ctx context.Context, cs Cashier) ([]RedemptionLine, error) {
	return a.store.MerchantRedemptions(ctx, cs.MerchantID, ReversalWindowStart(a.now()), startOfDay(a.now()).Add(24*time.Hour))
}
