package app

import (
	"context"
	"time"
)

// ReverseInsert is one reversal as the store must carry it out; see
// db.Store.Reverse.
type ReverseInsert struct {
	RedemptionID int64
	MerchantID   int64
	CashierID    int64
	At           time.Time
	WindowStart  time.Time // redemptions made before it can no longer be reversed
}

// RedemptionLine is a redemption with what a merchant's list shows.
type RedemptionLine struct {
	Redemption
	CampaignName string `db:"campaign_name" json:"campaign_name"`
	VoucherCode  string `db:"voucher_code" json:"voucher_code"`
}

// reversalWindowStart is the policy: a redemption can be reversed on the
// day it was made (Asia/Shanghai), when a refund at the counter happens.
func reversalWindowStart(now time.Time) time.Time {
	l := now.In(Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, Shanghai).UTC()
}

// Reverse undoes one of the cashier's merchant's redemptions on a refund:
// the voucher goes back to its holder with its original expiry, and the
// campaign's counters and budget follow.
func (a *App) Reverse(ctx context.Context, cs Cashier, redemptionID int64) (Redemption, error) {
	now := a.now()
	red, err := a.store.Reverse(ctx, ReverseInsert{
		RedemptionID: redemptionID, MerchantID: cs.MerchantID, CashierID: cs.ID, At: now, WindowStart: reversalWindowStart(now),
	})
	if err != nil {
		return red, err
	}
	a.forgetCampaign(red.CampaignID)
	a.log.Info("redemption reversed", "redemption", red.ID, "voucher", red.VoucherID, "merchant", cs.MerchantID, "cashier", cs.ID)
	return red, nil
}

// TodaysRedemptions lists the merchant's redemptions of today (Asia/Shanghai).
func (a *App) TodaysRedemptions(ctx context.Context, cs Cashier) ([]RedemptionLine, error) {
	from := reversalWindowStart(a.now())
	return a.store.MerchantRedemptions(ctx, cs.MerchantID, from, from.Add(24*time.Hour))
}
