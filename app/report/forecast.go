package report

import (
	"math"
	"time"
)

// Pacing and forecasts: where a campaign is heading at the pace it has
// now. Every assumption is a field of the Forecast that the page states:
//
//  1. Claims go on at the average rate of the last PaceDays days (or since
//     claims opened, if that is shorter), until the planned stock is
//     claimed or the claim window closes.
//  2. A voucher is used, if at all, after a wait that is exponentially
//     distributed with mean MeanWait, and only while it is valid
//     (ValidFor). Of the vouchers that would be used given time, a share
//     Propensity is. Both are fitted to what happened so far: MeanWait so
//     that the waits seen (which favour short ones: a long wait of a recent
//     claim has not ended yet) have the mean they have, and Propensity so
//     that the redemptions seen are what it predicts for the claims made.
//     RedemptionRateBP is the share of vouchers that ends up redeemed.
//  3. Each redemption draws the average subsidy of those so far.
//
// It reads the hourly rollups only (claims by the hour they were made,
// redemptions by the hour they were made), so a forecast "as of" any past
// moment uses exactly what was known then: the test of the model makes one
// at day 3 of a generated season and holds it against day 14.

// ForecastInput is what a forecast reads.
type ForecastInput struct {
	Hours       []Cell    // the campaign's hourly rollup; only hours before AsOf are read
	AsOf        time.Time // when the forecast is made
	ClaimStarts time.Time
	ClaimEnds   time.Time
	// ValidFor is how long a voucher can be used after its claim;
	// ValidityEnds the last moment any can (a fixed end, or the last
	// claim's expiry).
	ValidFor     time.Duration
	ValidityEnds time.Time
	Planned      int64 // vouchers planned over the whole campaign (Σ quantity)
	BudgetFen    int64
	PaceDays     int // the pace window; 0 means DefaultPaceDays
}

// DefaultPaceDays is the pace window: long enough to smooth one day's
// drop, short enough to follow a campaign that slows.
const DefaultPaceDays = 3

// Forecast is where a campaign is heading, and on what assumptions.
type Forecast struct {
	AsOf       time.Time
	PaceDays   float64 // the window the pace was read over, in days
	Claimed    int64   // by AsOf
	Redeemed   int64
	SubsidyFen int64

	ClaimsPerDay            float64
	MeanWait                time.Duration // assumed claim → redemption (exponential)
	Propensity              float64       // of the vouchers used given time, the share used
	RedemptionRateBP        int64         // share of vouchers redeemed in the end
	SubsidyPerRedemptionFen int64

	StockOutAt         *time.Time // when the planned stock is all claimed, if before the window closes
	ClaimedAtEnd       int64      // when the claim window closes
	UnclaimedAtEnd     int64
	RedeemedAtEnd      int64 // when validity ends
	UnredeemedAtEnd    int64
	SubsidyAtEndFen    int64
	BudgetLeftAtEndFen int64
	Ended              bool // the claim window has closed: no more claims projected

	cohorts  []cohort // the claims so far, by hour
	validFor time.Duration
	claimEnd time.Time // when projected claims stop: the window's end or the stock-out
}

// A cohort is the claims of one hour, taken as made at its middle.
type cohort struct {
	at time.Time
	n  float64
}

// used is the share of a cohort's vouchers a redemption can have come
// from by age a: 1 − e^(−a/τ), a no longer than the validity.
func used(age, validFor, tau time.Duration) float64 {
	if age <= 0 {
		return 0
	}
	if validFor > 0 && age > validFor {
		age = validFor
	}
	return 1 - math.Exp(-age.Hours()/tau.Hours())
}

// MakeForecast projects a campaign from its hourly rollup (see the
// package's model). Hour keys are in loc (Asia/Shanghai, whose hours are
// UTC's), as the rollup keeps them.
func MakeForecast(in ForecastInput, loc *time.Location) Forecast {
	// The rollup counts by the hour, and an hour under way holds only part
	// of what it will: the forecast is made as of the last hour that is over.
	in.AsOf = in.AsOf.Truncate(time.Hour)
	f := Forecast{AsOf: in.AsOf, validFor: in.ValidFor}
	days := in.PaceDays
	if days <= 0 {
		days = DefaultPaceDays
	}
	// The window starts on an hour too, so that the hour it begins in is
	// counted whole or not at all.
	windowStart := in.AsOf.Add(-time.Duration(days) * 24 * time.Hour)
	if opens := in.ClaimStarts.Truncate(time.Hour); windowStart.Before(opens) {
		windowStart = opens
	}
	var inWindow, waitS int64
	for _, h := range in.Hours {
		at, err := time.ParseInLocation("2006-01-02 15", h.Key, loc)
		if err != nil || !at.Before(in.AsOf) {
			continue
		}
		f.Claimed += h.Claims
		f.Redeemed += h.Redemptions
		f.SubsidyFen += h.SubsidyFen
		waitS += h.ClaimToRedeemS
		if !at.Before(windowStart) {
			inWindow += h.Claims
		}
		if h.Claims > 0 {
			mid := at.Add(30 * time.Minute)
			if mid.After(in.AsOf) {
				mid = in.AsOf
			}
			f.cohorts = append(f.cohorts, cohort{mid, float64(h.Claims)})
		}
	}
	f.Ended = !in.AsOf.Before(in.ClaimEnds)
	if span := in.AsOf.Sub(windowStart); span > 0 {
		f.PaceDays = span.Hours() / 24
		f.ClaimsPerDay = float64(inWindow) / f.PaceDays
	}
	f.MeanWait = 24 * time.Hour // until a redemption says otherwise
	if f.Redeemed > 0 {
		f.SubsidyPerRedemptionFen = f.SubsidyFen / f.Redeemed
		f.MeanWait = f.fitWait(time.Duration(waitS/f.Redeemed) * time.Second)
		if exposed := f.exposure(in.AsOf); exposed > 0 {
			f.Propensity = min(1, float64(f.Redeemed)/exposed)
		}
	}
	f.RedemptionRateBP = int64(math.Round(f.Propensity * used(in.ValidFor, in.ValidFor, f.MeanWait) * 10000))
	if in.ValidFor <= 0 {
		f.RedemptionRateBP = int64(math.Round(f.Propensity * 10000))
	}

	// Claims to the end of the window, at pace, within the planned stock.
	left := max(0, in.Planned-f.Claimed)
	f.ClaimedAtEnd = f.Claimed
	f.claimEnd = in.AsOf
	if !f.Ended && f.ClaimsPerDay > 0 {
		f.claimEnd = in.ClaimEnds
		more := int64(math.Round(f.ClaimsPerDay * in.ClaimEnds.Sub(in.AsOf).Hours() / 24))
		if more >= left {
			at := in.AsOf.Add(time.Duration(float64(left) / f.ClaimsPerDay * 24 * float64(time.Hour)))
			f.StockOutAt, f.claimEnd = &at, at
			more = left
		}
		f.ClaimedAtEnd += more
	}
	f.UnclaimedAtEnd = max(0, in.Planned-f.ClaimedAtEnd)
	end := in.ValidityEnds
	if end.Before(f.claimEnd.Add(in.ValidFor)) {
		end = f.claimEnd.Add(in.ValidFor)
	}
	f.RedeemedAtEnd = min(f.ClaimedAtEnd, f.RedeemedBy(end))
	f.UnredeemedAtEnd = f.ClaimedAtEnd - f.RedeemedAtEnd
	f.SubsidyAtEndFen = f.SubsidyFen + (f.RedeemedAtEnd-f.Redeemed)*f.SubsidyPerRedemptionFen
	f.BudgetLeftAtEndFen = in.BudgetFen - f.SubsidyAtEndFen
	return f
}

// WaitSeconds is MeanWait in whole seconds, as durations are shown.
func (f Forecast) WaitSeconds() int64 { return int64(f.MeanWait / time.Second) }

// PropensityBP is Propensity in basis points.
func (f Forecast) PropensityBP() int64 { return int64(math.Round(f.Propensity * 10000)) }

// exposure is how many redemptions the claims so far would have given by
// t at a propensity of 1.
func (f Forecast) exposure(t time.Time) float64 {
	var e float64
	for _, c := range f.cohorts {
		e += c.n * used(t.Sub(c.at), f.validFor, f.MeanWait)
	}
	return e
}

// fitWait finds the mean wait τ whose exponential waits, cut off at each
// cohort's age (and the validity), average what was seen: the mean of a
// wait under a cut-off a is τ − a·e^(−a/τ)/(1 − e^(−a/τ)), and it grows
// with τ, so a bisection finds it.
func (f Forecast) fitWait(seen time.Duration) time.Duration {
	meanSeen := func(tau float64) float64 {
		var num, den float64
		for _, c := range f.cohorts {
			a := f.AsOf.Sub(c.at).Hours()
			if v := f.validFor.Hours(); v > 0 && a > v {
				a = v
			}
			if a <= 0 {
				continue
			}
			e := math.Exp(-a / tau)
			num += c.n * (tau*(1-e) - a*e)
			den += c.n * (1 - e)
		}
		if den == 0 {
			return 0
		}
		return num / den
	}
	lo, hi := 1.0/60, 30*24.0 // hours
	target := seen.Hours()
	if meanSeen(hi) <= target {
		return time.Duration(hi * float64(time.Hour))
	}
	for range 60 {
		mid := (lo + hi) / 2
		if meanSeen(mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Duration((lo + hi) / 2 * float64(time.Hour)).Round(time.Minute)
}

// ClaimedBy is the projected number of claims by t (AsOf ≤ t): at pace,
// within the planned stock and the claim window.
func (f Forecast) ClaimedBy(t time.Time) int64 {
	if !t.After(f.AsOf) {
		return f.Claimed
	}
	if t.After(f.claimEnd) {
		t = f.claimEnd
	}
	if !t.After(f.AsOf) {
		return f.Claimed
	}
	return min(f.ClaimedAtEnd, f.Claimed+int64(math.Round(f.ClaimsPerDay*t.Sub(f.AsOf).Hours()/24)))
}

// RedeemedBy is the projected number of redemptions by t (AsOf ≤ t): those
// so far, and the share Propensity of what the claims made and projected
// would give between AsOf and t.
func (f Forecast) RedeemedBy(t time.Time) int64 {
	if !t.After(f.AsOf) || f.Propensity == 0 {
		return f.Redeemed
	}
	more := 0.0
	for _, c := range f.cohorts {
		more += c.n * (used(t.Sub(c.at), f.validFor, f.MeanWait) - used(f.AsOf.Sub(c.at), f.validFor, f.MeanWait))
	}
	// Projected claims, an hour at a time.
	perHour := f.ClaimsPerDay / 24
	for at := f.AsOf.Add(30 * time.Minute); at.Before(f.claimEnd) && at.Before(t); at = at.Add(time.Hour) {
		more += perHour * used(t.Sub(at), f.validFor, f.MeanWait)
	}
	return f.Redeemed + int64(math.Round(f.Propensity*more))
}

// TierForecast is one tier's outlook: the campaign's pace, shared as the
// tier has shared the claims so far (by its quantity before any claim).
type TierForecast struct {
	TierID         int64
	Quantity       int64
	Claimed        int64
	ClaimsPerDay   float64
	StockOutAt     *time.Time
	ClaimedAtEnd   int64
	UnclaimedAtEnd int64
	// RedeemedAtEnd assumes the campaign's redemption rate.
	RedeemedAtEnd int64
}

// Tier projects one tier of quantity vouchers, claimed of them claimed
// so far, at the campaign's pace times share, until the window closes.
func (f Forecast) Tier(id, quantity, claimed int64, share float64, in ForecastInput) TierForecast {
	t := TierForecast{TierID: id, Quantity: quantity, Claimed: claimed, ClaimsPerDay: f.ClaimsPerDay * share, ClaimedAtEnd: claimed}
	left := max(0, quantity-claimed)
	if !f.Ended && t.ClaimsPerDay > 0 {
		more := int64(math.Round(t.ClaimsPerDay * in.ClaimEnds.Sub(f.AsOf).Hours() / 24))
		if more >= left {
			at := f.AsOf.Add(time.Duration(float64(left) / t.ClaimsPerDay * 24 * float64(time.Hour)))
			t.StockOutAt = &at
			more = left
		}
		t.ClaimedAtEnd += more
	}
	t.UnclaimedAtEnd = max(0, quantity-t.ClaimedAtEnd)
	t.RedeemedAtEnd = t.ClaimedAtEnd * f.RedemptionRateBP / 10000
	return t
}
