package app

import (
	"context"
	"strconv"
	"time"

	"cqvoucher/app/report"
)

// CampaignForecast is a campaign's pacing and outlook (report.Forecast),
// with what it was made from and each tier's share.
type CampaignForecast struct {
	report.Forecast
	Input report.ForecastInput
	Tiers []report.TierForecast
}

// Forecast projects a campaign the officer may see from its rollups, as
// of now.
func (a *App) Forecast(ctx context.Context, by Officer, id int64) (Campaign, CampaignForecast, error) {
	c, err := a.CampaignFor(ctx, by, id)
	if err != nil {
		return c, CampaignForecast{}, err
	}
	parts, err := a.store.RollupParts(ctx, id)
	if err != nil {
		return c, CampaignForecast{}, err
	}
	return c, ForecastAt(c, parts, a.now()), nil
}

// ForecastAt projects c as of asOf from its rollups: only what was known
// then is read (a forecast of the past can be checked against what came).
func ForecastAt(c Campaign, parts report.Parts, asOf time.Time) CampaignForecast {
	in := report.ForecastInput{Hours: parts.Hours, AsOf: asOf, ClaimStarts: c.ClaimStartsAt, ClaimEnds: c.ClaimEndsAt,
		ValidFor: time.Duration(max(1, c.ValidDays)) * 24 * time.Hour, ValidityEnds: validityEnds(c), Planned: c.Planned(), BudgetFen: int64(c.BudgetFen)}
	if c.ValidityMode == ValidityFixed {
		in.ValidFor = 0 // every voucher runs to the same end
	}
	cf := CampaignForecast{Forecast: report.MakeForecast(in, Shanghai), Input: in}
	claims := map[int64]int64{}
	var total int64
	for _, t := range parts.Tiers {
		id, _ := strconv.ParseInt(t.Key, 10, 64)
		claims[id] = t.Claims
		total += t.Claims
	}
	for _, t := range c.Tiers {
		share := float64(t.Quantity) / float64(max(1, c.Planned()))
		if total > 0 {
			share = float64(claims[t.ID]) / float64(total)
		}
		cf.Tiers = append(cf.Tiers, cf.Tier(t.ID, t.Quantity, claims[t.ID], share, in))
	}
	return cf
}

// validityEnds is the last moment any of c's vouchers can be redeemed.
func validityEnds(c Campaign) time.Time {
	if c.ValidityMode == ValidityFixed && c.ValidUntil != nil {
		return *c.ValidUntil
	}
	return EndOfDayAfter(c.ClaimEndsAt, max(1, c.ValidDays)-1)
}

// QuantityMove is a what-if: N vouchers of one tier's unclaimed stock
// moved to another tier.
type QuantityMove struct {
	From, To int64
	N        int64
}

// WhatIf is the outlook after a QuantityMove, beside the one before.
type WhatIf struct {
	Move                       QuantityMove
	CommittedFen, BudgetFen    Fen
	CommittedAfterFen          Fen
	UnclaimedBefore, Unclaimed int64
	Tiers                      []report.TierForecast // after the move
}

// WithinBudget reports whether the move keeps Σ face × quantity within
// the budget, the rule every campaign change keeps.
func (w WhatIf) WithinBudget() bool { return w.CommittedAfterFen <= w.BudgetFen }

// WhatIf projects a move of quantity between two tiers: each tier keeps
// its pace, within its new quantity. It changes nothing; a move that
// would take more than the first tier has left unclaimed is refused.
func (cf CampaignForecast) WhatIf(c Campaign, m QuantityMove) (WhatIf, error) {
	w := WhatIf{Move: m, CommittedFen: c.Committed(), BudgetFen: c.BudgetFen, CommittedAfterFen: c.Committed()}
	var from, to *report.TierForecast
	var faceFrom, faceTo Fen
	for i, t := range cf.Tiers {
		w.UnclaimedBefore += t.UnclaimedAtEnd
		switch t.TierID {
		case m.From:
			from, faceFrom = &cf.Tiers[i], c.Tiers[i].FaceFen
		case m.To:
			to, faceTo = &cf.Tiers[i], c.Tiers[i].FaceFen
		}
	}
	if from == nil || to == nil {
		return w, checkMove(c, m) // names the unknown tier
	}
	// The rule of a move is the one the request is held to, budget aside:
	// the what-if shows a move beyond the budget, and says so.
	if err := checkMove(c, m); err != nil && ErrorReason(err) != "budget_below_committed" {
		return w, err
	}
	w.CommittedAfterFen += Fen(m.N) * (faceTo - faceFrom)
	for _, t := range cf.Tiers {
		q, share := t.Quantity, 0.0
		switch t.TierID {
		case m.From:
			q -= m.N
		case m.To:
			q += m.N
		}
		if cf.ClaimsPerDay > 0 {
			share = t.ClaimsPerDay / cf.ClaimsPerDay
		}
		after := cf.Tier(t.TierID, q, t.Claimed, share, cf.Input)
		w.Unclaimed += after.UnclaimedAtEnd
		w.Tiers = append(w.Tiers, after)
	}
	return w, nil
}
