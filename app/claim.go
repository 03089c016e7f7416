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
	Limit      int    // per resident per campaign
	DayLimit   int    // per resident per Asia/Shanghai day; 0 = none
	TierLimit  int    // per resident per tier; 0 = none
	Day        string // the Asia/Shanghai date of At
	Rollover   bool   // drops: unclaimed stock rolls into the next drop (else it lapses)
	RequestKey string // "" = not idempotent
	Code       string
	Token      string
	At         time.Time
	ValidFrom  *time.Time
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
	case StatusPaused:
		return Voucher{}, Conflict("paused")
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
	notBefore, expires := now.Add(-time.Minute), EndOfDayAfter(now, c.ValidDays-1)
	if c.ValidityMode == ValidityFixed {
		notBefore, expires = *c.ValidFrom, *c.ValidUntil
	}
	tok, err := a.ring.Sign(token.Claims{
		Issuer: c.District, Code: code, CampaignID: c.ID, TierID: tier.ID,
		FaceFen: int64(tier.FaceFen), ThresholdFen: int64(tier.ThresholdFen), Category: strings.Join(c.Categories, ","),
		NotBefore: notBefore, Expires: expires,
	})
	if err != nil {
		return Voucher{}, err
	}
	in := ClaimInsert{
		CampaignID: c.ID, TierID: tier.ID, ResidentID: r.ID, Limit: c.PerResidentLimit,
		DayLimit: c.PerDayLimit, TierLimit: c.PerTierLimit, Day: now.In(Shanghai).Format("2006-01-02"), Rollover: c.DropRollover,
		RequestKey: strings.TrimSpace(requestKey), Code: code, Token: tok, At: now, ExpiresAt: expires,
	}
	if c.ValidityMode == ValidityFixed {
		in.ValidFrom = c.ValidFrom
	}
	v, err := a.store.Claim(ctx, in)
	if ErrorReason(err) == "sold_out" {
		if next := c.NextDrop(now); next != nil {
			if !tierHasDropBy(c, tier.ID, now) {
				// The tier's first drop is still to come.
				return Voucher{}, Conflict("not_open").With("opens", FormatLocal(next.OpensAt))
			}
			return Voucher{}, Conflict("sold_out_next").With("next", FormatLocal(next.OpensAt))
		}
	}
	return v, err
}

// tierHasDropBy reports whether any drop of the tier opened by now. It
// reads the schedule, not the released counter, which at a rush may be
// older than the transaction that released the drop.
func tierHasDropBy(c Campaign, tierID int64, now time.Time) bool {
	for _, d := range c.Drops {
		if d.TierID == tierID && !d.OpensAt.After(now) {
			return true
		}
	}
	return false
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
