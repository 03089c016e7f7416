package seeds_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/report"
	"cqvoucher/seeds"
)

func TestSeasonIsConsistent(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	sum, err := seeds.LoadSeason(ctx, e.Store, e.App, seeds.SeasonOptions{Redemptions: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Campaigns != 4 || sum.Redemptions < 2000 || sum.Reversals == 0 || sum.Claims <= sum.Redemptions {
		t.Fatalf("season too thin: %+v", sum)
	}
	cs, err := e.Store.Campaigns(ctx, app.CampaignFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var redeemed int64
	for _, c := range cs {
		rolled, _ := e.Store.RollupParts(ctx, c.ID)
		raw, _ := e.Store.RawParts(ctx, c.ID)
		a, b := report.Build(rolled, app.TierLabeler(c)), report.Build(raw, app.TierLabeler(c))
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("campaign %d: rollups and raw rows differ", c.ID)
		}
		if c.RedeemedCount != b.Total.Redemptions || int64(c.SubsidyFen) != b.Total.SubsidyFen || c.Committed() > c.BudgetFen {
			t.Fatalf("campaign %d counters %d/%d vs raw %+v; committed %v budget %v", c.ID, c.RedeemedCount, c.SubsidyFen, b.Total, c.Committed(), c.BudgetFen)
		}
		redeemed += c.RedeemedCount
	}
	if redeemed != int64(sum.Redemptions) {
		t.Fatalf("redeemed %d, generated %d", redeemed, sum.Redemptions)
	}
	// Vouchers older than their validity were counted as expired.
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE status = 'claimed' AND expires_at <= ? AND lapsed_at IS NULL`, e.Clock.Now()); n != 0 {
		t.Fatalf("%d expired vouchers not swept", n)
	}
}

// BenchmarkDashboard measures building a campaign's dashboard on seasons
// of 10,000 and 1,000,000 redemptions: rollups keep it independent of the
// season's size. Run: go test -run '^$' -bench Dashboard -benchtime 20x ./seeds/
func BenchmarkDashboard(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("redemptions=%d", n), func(b *testing.B) {
			e := apptest.New(b, apptest.Options{Synchronous: "NORMAL"})
			ctx := context.Background()
			if _, err := seeds.LoadSeason(ctx, e.Store, e.App, seeds.SeasonOptions{Redemptions: n, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			cs, _ := e.Store.Campaigns(ctx, app.CampaignFilter{})
			biggest := cs[len(cs)-1] // the first made: the 渝中 catering campaign, 40 % of the season
			admin := e.NewOfficer(b, "bench-admin", app.CityCode, false)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := e.App.Dashboard(ctx, admin, biggest.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
