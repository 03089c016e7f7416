package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cqvoucher/db"
)

// TestKillDuringABurstLosesNoAcknowledgedClaim: a real voucherd process
// (synchronous=FULL, group commit) is killed with SIGKILL in the middle of
// a burst of claims, while batches are being committed. Every claim it had
// answered 201 must be in the database when it is opened again, and the
// books must balance; claims in flight at the kill may or may not be
// there, but never half.
func TestKillDuringABurstLosesNoAcknowledgedClaim(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a voucherd process")
	}
	ctx := context.Background()
	s := sqliteSite(t.TempDir())
	cfg := config{residents: 4000, stock: 4000, sync: "FULL", conc: 64, timeout: 30 * time.Second}
	fx, err := prepare(ctx, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bin, cleanup, err := serverBinary(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	srv, err := startServer(ctx, bin, s, 1, cfg.sync, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()

	// Kill once a quarter of the presses were answered 201: the others are
	// then queued, in a batch being committed, or not yet sent.
	var acked atomic.Int64
	var kill sync.Once
	cr := newCrowd(fleet{srv}.urls(fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", fx.campaignID)),
		claimBody(fx.tierID), cfg.conc, cfg.timeout)
	cr.answered = func(p press) {
		if p.class == success && acked.Add(1) == int64(cfg.residents/4) {
			kill.Do(func() { _ = srv.cmd.Process.Kill() })
		}
	}
	run := cr.run(ctx, fx.tokens)
	<-srv.done

	// Open the database as voucherd does on its next start (WAL recovery),
	// then read what it holds.
	st, err := db.Open(ctx, s.database, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	held, err := readFigures(ctx, s.database, func(st *db.Store) ([]db.HeldVoucher, error) { return st.CampaignVouchers(ctx, fx.campaignID) })
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, v := range held {
		stored[v.ResidentID] = true
	}
	var ok, lost, cut int
	for i, p := range run.presses {
		switch p.class {
		case success:
			ok++
			if !stored[fx.residents[i]] {
				lost++
			}
		case transport:
			cut++
		}
	}
	t.Logf("%d claims acknowledged before the kill, %d presses cut off by it, %d vouchers in the database", ok, cut, len(stored))
	if lost > 0 {
		t.Errorf("%d of %d acknowledged claims are not in the database after the kill", lost, ok)
	}
	if ok < cfg.residents/4 || cut == 0 {
		t.Errorf("the kill did not land mid-burst (%d acknowledged, %d cut off)", ok, cut)
	}
	checks, err := checkBooks(ctx, s.database)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("books after the kill: FAIL %s: %s", c.name, c.detail)
		}
	}
}
