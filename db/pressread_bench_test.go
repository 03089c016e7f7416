package db_test

import (
	"context"
	"fmt"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

func BenchmarkPressReads(b *testing.B) {
	e := apptest.New(b, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(b, apptest.CampaignSpec{})
	const n = 2000
	hashes := make([]string, n)
	ids := make([]int64, n)
	for i := range hashes {
		r, err := e.Store.EnsureResident(ctx, fmt.Sprintf("139%08d", i), nil, e.Clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
		hashes[i] = fmt.Sprintf("%064d", i)
		if err := e.Store.CreateSession(ctx, app.Session{TokenHash: hashes[i], Kind: app.KindResident, SubjectID: r.ID,
			CreatedAt: e.Clock.Now(), ExpiresAt: e.Clock.Now().Add(1e12)}); err != nil {
			b.Fatal(err)
		}
	}
	now := e.Clock.Now()
	b.Run("session", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := e.Store.SessionByTokenHash(ctx, hashes[i%n], now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("consent", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := e.Store.ConsentVersion(ctx, ids[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claimcount", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := e.Store.ResidentClaimCount(ctx, c.ID, ids[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ping", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var x int
			if err := e.Store.QueryRow(ctx, `SELECT 1`).Scan(&x); err != nil {
				b.Fatal(err)
			}
		}
	})
}
