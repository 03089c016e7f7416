package report

import (
	"fmt"
	"math"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

// hoursOf is a rollup of n claims at 10:00 on each of days, a share p of
// them redeemed after exponential waits of mean tau (expected counts, hour
// by hour, up to asOf), within validFor of the claim.
func hoursOf(start time.Time, days, n int, p float64, tau, validFor time.Duration, asOf time.Time) []Cell {
	byHour := map[string]*Cell{}
	cell := func(at time.Time) *Cell {
		k := at.In(shanghai).Format("2006-01-02 15")
		if byHour[k] == nil {
			byHour[k] = &Cell{Key: k}
		}
		return byHour[k]
	}
	for d := range days {
		at := start.AddDate(0, 0, d)
		if !at.Before(asOf) {
			break
		}
		cell(at).Claims += int64(n)
		for h := 0; at.Add(time.Duration(h+1)*time.Hour).Before(asOf) && time.Duration(h+1)*time.Hour <= validFor; h++ {
			share := math.Exp(-float64(h)/tau.Hours()) - math.Exp(-float64(h+1)/tau.Hours())
			r := int64(math.Round(float64(n) * p * share))
			c := cell(at.Add(time.Duration(h) * time.Hour))
			c.Redemptions += r
			c.SubsidyFen += r * 3000
			c.ClaimToRedeemS += r * int64((time.Duration(h)*time.Hour + 30*time.Minute).Seconds())
		}
	}
	var out []Cell
	for _, c := range byHour {
		out = append(out, *c)
	}
	return out
}

// A steady campaign: 10,000 claims a day for 4 days of a 10-day window
// with 80,000 planned, 70 % used after a mean wait of 24 h within 7 days.
// At pace the stock lasts 4 more days: sold out on day 8, none unclaimed;
// the fit finds the wait and the share from four days.
func TestForecastOfASteadyCampaign(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai)
	asOf := start.AddDate(0, 0, 3).Add(2 * time.Hour) // day 4, 12:00: four drops made
	week := 7 * 24 * time.Hour
	in := ForecastInput{Hours: hoursOf(start, 4, 10000, 0.7, 24*time.Hour, week, asOf), AsOf: asOf, ClaimStarts: start.Add(-time.Hour),
		ClaimEnds: start.AddDate(0, 0, 10), ValidFor: week, ValidityEnds: start.AddDate(0, 0, 17), Planned: 80000, BudgetFen: 300_000_000}
	f := MakeForecast(in, shanghai)
	if f.Claimed != 40000 || f.ClaimsPerDay != 10000 {
		t.Fatalf("so far: %d claimed, %.1f a day", f.Claimed, f.ClaimsPerDay)
	}
	if w := f.MeanWait.Hours(); w < 23 || w > 25 || f.Propensity < 0.68 || f.Propensity > 0.72 {
		t.Fatalf("fitted wait %v and share %.3f; want about 24 h and 0.70", f.MeanWait, f.Propensity)
	}
	if rate := f.RedemptionRateBP; rate < 6800 || rate > 7000 { // 0.7 × (1 − e^−7)
		t.Fatalf("redemption rate %d bp", rate)
	}
	if f.StockOutAt == nil || !f.StockOutAt.Equal(asOf.AddDate(0, 0, 4)) || f.ClaimedAtEnd != 80000 || f.UnclaimedAtEnd != 0 {
		t.Fatalf("stock out %v, claimed at end %d, unclaimed %d", f.StockOutAt, f.ClaimedAtEnd, f.UnclaimedAtEnd)
	}
	if f.RedeemedAtEnd < 54400 || f.RedeemedAtEnd > 56000 || f.UnredeemedAtEnd != f.ClaimedAtEnd-f.RedeemedAtEnd ||
		f.SubsidyAtEndFen != f.RedeemedAtEnd*3000 || f.BudgetLeftAtEndFen != 300_000_000-f.SubsidyAtEndFen {
		t.Fatalf("at the end: %d redeemed, %d not, %d fen subsidy, %d left", f.RedeemedAtEnd, f.UnredeemedAtEnd, f.SubsidyAtEndFen, f.BudgetLeftAtEndFen)
	}
	// Two days on, a day's redemptions more than the claims so far give.
	if by := f.RedeemedBy(asOf.AddDate(0, 0, 2)); by <= f.Redeemed || by >= f.RedeemedAtEnd {
		t.Fatalf("redeemed in two days %d, so far %d, at the end %d", by, f.Redeemed, f.RedeemedAtEnd)
	}
	if by := f.ClaimedBy(asOf.AddDate(0, 0, 1)); by != 50000 {
		t.Fatalf("claimed tomorrow %d", by)
	}
	// A tier of 30,000 with a quarter of the claims so far: 2,500 a day,
	// short of its stock when the window closes in 6 d 22 h.
	tier := f.Tier(7, 30000, 10000, 0.25, in)
	if tier.ClaimsPerDay != 2500 || tier.StockOutAt != nil || tier.ClaimedAtEnd != 10000+17292 || tier.UnclaimedAtEnd != 30000-27292 {
		t.Fatalf("tier: %+v", tier)
	}
}

// A slow campaign leaves stock unclaimed when its window closes; one
// whose window has closed projects no more claims.
func TestForecastLeavesStockUnclaimed(t *testing.T) {
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai)
	asOf := start.AddDate(0, 0, 3).Add(2 * time.Hour)
	in := ForecastInput{Hours: hoursOf(start, 4, 10, 0.7, 24*time.Hour, 7*24*time.Hour, asOf), AsOf: asOf, ClaimStarts: start.Add(-time.Hour),
		ClaimEnds: start.AddDate(0, 0, 10), Planned: 800}
	f := MakeForecast(in, shanghai)
	if f.StockOutAt != nil || f.ClaimedAtEnd != 40+int64(10*(in.ClaimEnds.Sub(asOf).Hours()/24)+0.5) || f.UnclaimedAtEnd != 800-f.ClaimedAtEnd {
		t.Fatalf("slow: %+v", f)
	}
	in.AsOf, in.ClaimEnds = start.AddDate(0, 0, 5), start.AddDate(0, 0, 4)
	if f := MakeForecast(in, shanghai); !f.Ended || f.ClaimedAtEnd != f.Claimed || fmt.Sprint(f.StockOutAt) != "<nil>" {
		t.Fatalf("ended: %+v", f)
	}
}
