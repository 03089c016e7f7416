package app

import (
	"context"
	"errors"
	"time"

	"cqvoucher/app/token"
)

// VoucherMoment is a voucher's state as the resident's screen and the
// public link show it: whether it can be used now, and if it was used,
// where, when and how much it took off the bill.
type VoucherMoment struct {
	State      string     // claimed, redeemed or expired, as Voucher.State
	UsedAt     *time.Time // the live redemption, when redeemed
	Merchant   string     // where it was used, when redeemed
	SavedFen   Fen        // the discount it gave, when redeemed
	ReversedAt *time.Time // the latest reversal of an earlier use, if any
}

// MomentOf reads a voucher's state now. A redeemed voucher's redemption
// is read with it; a voucher that can be used again after a refund says
// when its use was reversed.
func (a *App) MomentOf(ctx context.Context, v Voucher) (VoucherMoment, error) {
	m := VoucherMoment{State: v.State(a.now())}
	if v.Status == VoucherRedeemed {
		red, merchant, err := a.store.RedemptionOf(ctx, v.ID)
		if err != nil {
			return m, err
		}
		m.UsedAt, m.Merchant, m.SavedFen = &red.CreatedAt, merchant, red.DiscountFen
		return m, nil
	}
	at, err := a.store.LastReversal(ctx, v.ID)
	m.ReversedAt = at
	return m, err
}

// PublicMoment is what the public link of a scanned QR shows: the
// voucher's claims, checked offline, and its state in the database. It
// names no person. A token whose signature has expired is reported as
// token.ErrExpired; one that does not verify, or names no stored voucher,
// as not found.
func (a *App) PublicMoment(ctx context.Context, tok string) (Voucher, VoucherMoment, error) {
	claims, err := a.ring.Verify(tok, a.now(), nil)
	if err != nil {
		return Voucher{}, VoucherMoment{}, err
	}
	v, err := a.store.VoucherByCode(ctx, claims.Code)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == ENOTFOUND {
			return Voucher{}, VoucherMoment{}, token.ErrForged
		}
		return Voucher{}, VoucherMoment{}, err
	}
	m, err := a.MomentOf(ctx, v)
	return v, m, err
}
