package app

import (
	"context"
	"time"
)

// ReverseInsert is one reversal as the store must carry it out, at the
// writer's time: the merchant's own redemption, not reversed yet, made at
// or after ReversalWindowStart of that time, its day not paid.
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
}

// ReversalWindowStart is the policy: a redemption can be reversed on the
// day it was made (Asia/Shanghai), when a refund at the counter happens.
// The store applies it at its own time, inside the reversal's transaction.
func ReversalWindowStart(now time.Time) time.Time {
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
	a.log.InfoContext(ctx, "redemption reversed", "redemption", red.ID, "voucher", red.VoucherID, "merchant", cs.MerchantID, "cashier", cs.ID)
	return red, nil
}

// TodaysRedemptions lists the merchant's redemptions of today (Asia/Shanghai).
func (a *App) TodaysRedemptions(ctx context.Context, cs Cashier) ([]RedemptionLine, error) {
	from := ReversalWindowStart(a.now())
	return a.store.MerchantRedemptions(ctx, cs.MerchantID, from, from.Add(24*time.Hour))
}
