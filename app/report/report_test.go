package report

import (
	"fmt"
	"testing"
)

func TestBuildAndSignals(t *testing.T) {
	p := Parts{
		Hours: []Cell{
			{Key: "2026-11-25 10", Claims: 100, Redemptions: 30, SubsidyFen: 90000, ConsumptionFen: 400000},
			{Key: "2026-11-25 18", Redemptions: 4, SubsidyFen: 12000, ConsumptionFen: 50000},
			{Key: "2026-11-26 12", Redemptions: 5, SubsidyFen: 15000, ConsumptionFen: 60000},
			{Key: "2026-11-26 13", Redemptions: 6, SubsidyFen: 18000, ConsumptionFen: 70000},
		},
		Tiers: []Cell{{Key: "7", Claims: 100, Redemptions: 45, SubsidyFen: 135000, ConsumptionFen: 580000, ClaimToRedeemS: 45 * 3600}},
	}
	for i := 0; i < 8; i++ { // eight merchants; the first three take most
		sub := int64(5000)
		if i < 3 {
			sub = 35000
		}
		p.Merchants = append(p.Merchants, Cell{Key: fmt.Sprint(i), MerchantName: fmt.Sprint("店", i), District: "500103", Category: "catering",
			Redemptions: 5, SubsidyFen: sub, ConsumptionFen: sub * 4})
	}
	d := Build(p, func(id int64) string { return fmt.Sprint("tier", id) })
	if d.Total.Claims != 100 || d.Total.Redemptions != 45 || d.AvgWaitS != 3600 || d.Total.LeverageBP() != 42963 {
		t.Fatalf("total %+v, wait %d, leverage %d", d.Total, d.AvgWaitS, d.Total.LeverageBP())
	}
	if d.Total.RedemptionRateBP() != 4500 || d.ByMerchant[0].RedemptionRateBP() != 0 {
		t.Fatalf("redemption rate %d (want 45.00 %%), a merchant's %d (no claims)", d.Total.RedemptionRateBP(), d.ByMerchant[0].RedemptionRateBP())
	}
	if len(d.ByDay) != 2 || d.ByDay[0].Redemptions != 34 || len(d.ByHour) != 24 || d.ByHour[10].Redemptions != 30 {
		t.Fatalf("by day %+v, by hour[10] %+v", d.ByDay, d.ByHour[10])
	}
	if d.PeakHour != "2026-11-25 10" || d.PeakHourCount != 30 || d.MedianHour != 6 {
		t.Fatalf("peak %s %d, median %d", d.PeakHour, d.PeakHourCount, d.MedianHour)
	}
	kinds := map[string]bool{}
	for _, s := range d.Signals(0) {
		kinds[s.Kind] = true
	}
	if !kinds["burst"] || !kinds["concentration"] || kinds["repeat_pairs"] {
		t.Fatalf("signals %v", d.Signals(0))
	}
}

func TestRatioRoundsHalfUp(t *testing.T) {
	for _, tc := range []struct{ num, den, want int64 }{{1, 3, 3333}, {2, 3, 6667}, {0, 5, 0}, {5, 0, 0}, {30, 7, 42857}} {
		if got := ratioBP(tc.num, tc.den); got != tc.want {
			t.Errorf("ratioBP(%d, %d) = %d, want %d", tc.num, tc.den, got, tc.want)
		}
	}
}
