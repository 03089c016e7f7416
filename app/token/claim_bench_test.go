package token_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// BenchmarkClaim is claims/s through the domain's claim path (App.Claim:
// the guards, the writer transaction and the voucher's signature) in each
// mode, so the cost of SM2 shows where it matters: beside the database.
func BenchmarkClaim(b *testing.B) {
	for _, kind := range []token.Kind{token.Ed25519, token.SM2} {
		b.Run(string(kind), func(b *testing.B) {
			e := apptest.New(b, apptest.Options{})
			if _, err := e.Ring.RotateTo(b.TempDir(), kind); err != nil {
				b.Fatal(err)
			}
			c := e.LiveCampaign(b, apptest.CampaignSpec{
				Tiers: []app.TierInput{{Face: "1", Threshold: "0", Quantity: "10000000"}}, Budget: "10000000",
			})
			ctx := context.Background()
			residents := make([]app.Resident, b.N)
			for i := range residents {
				r, err := e.Store.EnsureResident(ctx, fmt.Sprintf("139%08d", i), nil, e.Clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				residents[i] = r
			}
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := residents[n.Add(1)-1]
					if _, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, ""); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
			if kind == token.SM2 && e.Ring.ActiveKind() != token.SM2 {
				b.Fatal("claims were not signed with SM2")
			}
		})
	}
}
