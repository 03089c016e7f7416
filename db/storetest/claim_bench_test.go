package storetest_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// BenchmarkClaimOneTier: many residents claim from one tier at once, as
// at 10:00, on each backend: every claim takes from the one tier's stock
// and counts in the one campaign's counters, the hot rows of a drop
// (db/hotrows.go). go test -run XXX -bench ClaimOneTier ./db/storetest/
func BenchmarkClaimOneTier(b *testing.B) {
	for _, backend := range apptest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			e := apptest.New(b, apptest.Options{Backend: backend})
			ctx := context.Background()
			c := e.LiveCampaign(b, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "1", Threshold: "0", Quantity: "10000000"}}, Budget: "10000000", Limit: 100})
			residents := make([]int64, 4096)
			for i := range residents {
				r, err := e.Store.EnsureResident(ctx, fmt.Sprintf("139%08d", i), nil, e.Clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				residents[i] = r.ID
			}
			var n atomic.Int64
			exp := e.Clock.Now().Add(24 * time.Hour)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := e.Store.Claim(ctx, app.ClaimInsert{CampaignID: c.ID, TierID: c.Tiers[0].ID,
						ResidentID: residents[i%int64(len(residents))], Code: token.NewCode(), Token: "t", ExpiresAt: exp}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
		})
	}
}
