package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// BenchmarkWALWithHeldReader replays the scenario of a long read during a
// drop (docs/performance.md, "WAL bound"): a reader opens a snapshot and
// holds it for 25 s while 10,000 claims commit at synchronous=FULL, with
// serve's checkpointer running beside them (every second, a checkpoint
// when the WAL is past its limit). It reports the WAL's peak, how long
// after the reader closed the WAL was back within the limit, its size
// then, and the slowest claim (what a checkpoint costs the writer).
//
//	go test ./db -run '^$' -bench WALWithHeldReader -benchtime 1x
//
// Sub-benchmarks: none (no long read, the baseline), reader, backup. A
// benchmark, not a test: it prints figures and asserts only that every
// claim succeeded.
func BenchmarkWALWithHeldReader(b *testing.B) {
	for _, mode := range []string{"none", "reader", "backup"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				walScenario(b, mode, 25*time.Second, 10000)
			}
		})
	}
}

func walScenario(b *testing.B, mode string, held time.Duration, claims int) {
	ctx := context.Background()
	e := apptest.New(b, apptest.Options{Synchronous: "FULL"})
	c := e.LiveCampaign(b, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "1", Threshold: "0", Quantity: "1000000"}}, Budget: "1000000"})
	residents := make([]int64, claims)
	for i := range residents {
		r, err := e.Store.EnsureResident(ctx, fmt.Sprintf("139%08d", i), nil, e.Clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		residents[i] = r.ID
	}
	limit := e.Store.WALLimit()
	if _, err := e.Store.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}

	stop := make(chan struct{})
	var peak atomic.Int64
	var checkpoints atomic.Int64
	var bg sync.WaitGroup
	// serve's checkpointer (cmd/voucherd checkpointWAL), and a sampler.
	bg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if size, _ := e.Store.WALSize(); size > limit {
				checkpoints.Add(1)
				if _, err := e.Store.Checkpoint(ctx); err != nil {
					b.Error(err)
				}
			}
		}
	})
	bg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			size, _ := e.Store.WALSize()
			peak.Store(max(peak.Load(), size))
		}
	})

	// The long read: none (the baseline), a snapshot held for `held`, or a
	// backup of a 256 MiB database (VACUUM INTO reads in one transaction)
	// started with the burst.
	readerDone := make(chan time.Time, 1)
	switch mode {
	case "reader":
		raw, err := sql.Open("sqlite3", "file:"+e.Path)
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Close()
		rtx, err := raw.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		var n int
		if err := rtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM vouchers`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		time.AfterFunc(held, func() { rtx.Rollback(); readerDone <- time.Now() })
	case "none":
		readerDone <- time.Now()
	case "backup":
		// A database of some size, so that the copy takes seconds.
		raw, err := sql.Open("sqlite3", "file:"+e.Path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, `CREATE TABLE filler (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 4096)
			INSERT INTO filler SELECT randomblob(65536) FROM n`); err != nil {
			b.Fatal(err)
		}
		raw.Close()
		if _, err := e.Store.Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
		peak.Store(0)
		go func() {
			if err := e.Store.Backup(ctx, b.TempDir()+"/backup.db"); err != nil {
				b.Error(err)
			}
			readerDone <- time.Now()
		}()
	}

	start := time.Now()
	var next atomic.Int64
	lat := make([][]time.Duration, 8)
	exp := e.Clock.Now().Add(24 * time.Hour)
	var wg sync.WaitGroup
	for w := range lat {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(claims) {
					return
				}
				t0 := time.Now()
				_, err := e.Store.Claim(ctx, app.ClaimInsert{
					CampaignID: c.ID, TierID: c.Tiers[0].ID, ResidentID: residents[i],
					Code: token.NewCode(), Token: "t", ExpiresAt: exp,
				})
				if err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	burst := time.Since(start)
	closed := <-readerDone
	heldFor := closed.Sub(start)
	// How long, once the read and the burst are both over, until the
	// checkpointer has the WAL within its limit again.
	over := time.Now()
	var back time.Duration
	var after int64
	for {
		after, _ = e.Store.WALSize()
		if after <= limit {
			back = time.Since(over)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	bg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(claims)/burst.Seconds(), "claims/s")
	b.ReportMetric(heldFor.Seconds(), "s-read-held")
	b.ReportMetric(float64(peak.Load())/(1<<20), "MiB-wal-peak")
	b.ReportMetric(back.Seconds(), "s-to-bound")
	b.ReportMetric(float64(after)/(1<<20), "MiB-wal-after")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "ms-claim-p99")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "ms-claim-max")
	b.ReportMetric(float64(checkpoints.Load()), "checkpoints")
	b.Logf("%s: %d claims in %v; read held %v; WAL peak %.1f MiB (limit %d MiB); within the limit %v after the read ended, at %.1f MiB",
		mode, claims, burst.Round(time.Millisecond), heldFor.Round(time.Millisecond), float64(peak.Load())/(1<<20), limit>>20, back.Round(time.Millisecond), float64(after)/(1<<20))
}
