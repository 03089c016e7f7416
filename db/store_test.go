package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
	"cqvoucher/db"
)

func TestOpenTwiceAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	for i := 0; i < 2; i++ {
		st, err := db.Open(context.Background(), path, db.Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var n int
		if err := st.QueryRow(context.Background(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("migrations recorded: %d, %v", n, err)
		}
		st.Close()
	}
	if _, err := db.Open(context.Background(), path, db.Options{Synchronous: "OFF"}); err == nil {
		t.Fatal("synchronous=OFF accepted: it would lose acknowledged claims")
	}
}

func TestPragmasOnEveryConnection(t *testing.T) {
	// PRAGMAs are SQLite's per-connection settings.
	e := apptest.New(t, apptest.Options{Backend: apptest.SQLite})
	// Many concurrent reads open many pooled connections; each must have
	// foreign keys on and the durability we asked for.
	for i := 0; i < 8; i++ {
		var fk, sync int
		var mode string
		row := e.Store.QueryRow(context.Background(), `SELECT (SELECT foreign_keys FROM pragma_foreign_keys), (SELECT synchronous FROM pragma_synchronous), (SELECT journal_mode FROM pragma_journal_mode)`)
		if err := row.Scan(&fk, &sync, &mode); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || sync != 2 || mode != "wal" {
			t.Fatalf("connection pragmas: foreign_keys=%d synchronous=%d journal=%s", fk, sync, mode)
		}
	}
}

// BenchmarkClaimTx measures the raw claim transaction (guarded stock
// update, limit upsert, voucher insert, rollup) under FULL and NORMAL
// durability side by side, with many goroutines as at a drop.
func BenchmarkClaimTx(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run(sync, func(b *testing.B) {
			e := apptest.New(b, apptest.Options{Synchronous: sync})
			// The store applies the campaign's own limit: 4,096 residents × 100
			// claims each is room for any b.N a few seconds reach.
			c := e.LiveCampaign(b, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "1", Threshold: "0", Quantity: "10000000"}}, Budget: "10000000", Limit: 100})
			residents := make([]int64, 4096)
			for i := range residents {
				r, err := e.Store.EnsureResident(context.Background(), fmt.Sprintf("139%08d", i), nil, e.Clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				residents[i] = r.ID
			}
			var n atomic.Int64
			exp := e.Clock.Now().Add(24 * time.Hour)
			before := e.Store.WriterStats()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					_, err := e.Store.Claim(context.Background(), app.ClaimInsert{
						CampaignID: c.ID, TierID: c.Tiers[0].ID, ResidentID: residents[i%int64(len(residents))],
						Code: token.NewCode(), Token: "t", ExpiresAt: exp,
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
			after := e.Store.WriterStats()
			b.ReportMetric(float64(after.Steps-before.Steps)/float64(max(1, after.Commits-before.Commits)), "steps/commit")
		})
	}
}
