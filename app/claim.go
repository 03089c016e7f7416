package app

import (
	"context"
	"strings"
	"time"

	"cqvoucher/app/token"
)

// ClaimInsert is one claim as the store must carry it out, in one
// transaction: take one from the tier's stock (guarded, and only while the
// campaign is live at At), count the resident's claim against Limit
// (guarded), insert the voucher, bump the rollups. A RequestKey seen before
// for this resident returns the voucher it produced instead.
type ClaimInsert struct {
	CampaignID int64
	TierID     int64
	ResidentID int64
	Limit      int
	RequestKey string // "" = not idempotent
	Code       string
	Token      string
	At         time.Time
	ExpiresAt  time.Time
}

// Claim gives a resident one voucher of a tier of a live campaign.
//
// Answers: the voucher; conflict "sold_out"; conflict "limit_reached";
// conflict "not_open" / "ended"; not_found. A retried request with the same
// requestKey returns the same voucher, never a second one.
func (a *App) Claim(ctx context.Context, r Resident, campaignID, tierID int64, requestKey string) (Voucher, error) {
	c, err := a.store.Campaign(ctx, campaignID)
	if err != nil {
		return Voucher{}, err
	}
	now := a.now()
	switch c.Phase(now) {
	case PhaseLive:
	case PhaseScheduled:
		return Voucher{}, Conflict("not_open").With("opens", FormatLocal(c.ClaimStartsAt))
	case PhaseEnded:
		return Voucher{}, Conflict("ended")
	default:
		return Voucher{}, NotFound("campaign_not_found")
	}
	var tier *Tier
	for i := range c.Tiers {
		if c.Tiers[i].ID == tierID {
			tier = &c.Tiers[i]
		}
	}
	if tier == nil {
		return Voucher{}, NotFound("tier_not_found")
	}
	if len(requestKey) > 64 {
		return Voucher{}, Invalid("request_key_too_long")
	}

	code := token.NewCode()
	expires := EndOfDayAfter(now, c.ValidDays-1)
	tok, err := a.ring.Sign(token.Claims{
		Issuer: c.District, Code: code, CampaignID: c.ID, TierID: tier.ID,
		FaceFen: int64(tier.FaceFen), ThresholdFen: int64(tier.ThresholdFen), Category: c.Category,
		NotBefore: now.Add(-time.Minute), Expires: expires,
	})
	if err != nil {
		return Voucher{}, err
	}
	v, err := a.store.Claim(ctx, ClaimInsert{
		CampaignID: c.ID, TierID: tier.ID, ResidentID: r.ID, Limit: c.PerResidentLimit,
		RequestKey: strings.TrimSpace(requestKey), Code: code, Token: tok, At: now, ExpiresAt: expires,
	})
	if err != nil {
		return Voucher{}, err
	}
	return v, nil
}

// Wallet lists a resident's vouchers, newest first.
func (a *App) Wallet(ctx context.Context, r Resident) ([]Voucher, error) {
	return a.store.ResidentVouchers(ctx, r.ID)
}

// VoucherOf returns one of the resident's own vouchers by code; another
// resident's voucher is not found.
func (a *App) VoucherOf(ctx context.Context, r Resident, code string) (Voucher, error) {
	norm, ok := token.NormalizeCode(code)
	if !ok {
		return Voucher{}, NotFound("voucher_unknown")
	}
	v, err := a.store.VoucherByCode(ctx, norm)
	if err != nil {
		return Voucher{}, err
	}
	if v.ResidentID != r.ID {
		return Voucher{}, NotFound("voucher_unknown")
	}
	return v, nil
}

// FormatLocal shows a UTC time as Asia/Shanghai wall time.
func FormatLocal(t time.Time) string { return t.In(Shanghai).Format("2006-01-02 15:04") }
