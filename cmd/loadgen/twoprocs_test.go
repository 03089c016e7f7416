package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"cqvoucher/app/apptest"
	"cqvoucher/db"
)

// TestTwoProcessesSplitARace: two real voucherd processes serve one
// PostgreSQL schema. 1,000 residents press once each for 100 vouchers, all
// at once, half of them through each process: exactly 100 win (some
// through each process), 900 hear sold_out, and the database holds 100
// vouchers, none two for one resident. Then 50 cashiers, 25 through each
// process, redeem the same voucher at once: one wins, 49 hear
// already_redeemed. The books balance. Neither process can decide alone:
// only the database's guarded updates split the races.
func TestTwoProcessesSplitARace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two voucherd processes")
	}
	base := os.Getenv(apptest.PostgresURLEnv)
	if base == "" {
		if os.Getenv(apptest.RequirePostgresEnv) != "" {
			t.Fatalf("%s is not set, and %s says this run must test PostgreSQL", apptest.PostgresURLEnv, apptest.RequirePostgresEnv)
		}
		t.Skipf("no PostgreSQL server: set %s=postgres://… to run this test", apptest.PostgresURLEnv)
	}
	ctx := context.Background()
	cfg := config{postgres: base, instances: 2, residents: 1000, stock: 100, sync: "FULL", timeout: 60 * time.Second,
		redeem: true, cashiers: 50}
	cfg.conc = cfg.residents // every press in flight at once
	s, drop, err := newSite(ctx, t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	fx, err := prepare(ctx, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bin, cleanup, err := serverBinary(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	f, err := startFleet(ctx, bin, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.stop()

	// The drop: press i goes to process i mod 2.
	claims := summarize(newCrowd(f.urls(fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", fx.campaignID)),
		claimBody(fx.tierID), cfg.conc, cfg.timeout).run(ctx, fx.tokens))
	t.Logf("drop: %v; through voucherd 1: %d wins, through voucherd 2: %d wins",
		claims.counts, claims.byServer[0][success], claims.byServer[1][success])
	if claims.counts[success] != 100 || claims.counts[soldOut] != 900 {
		t.Errorf("%d successes and %d sold_out, want 100 and 900 (answers by class %v, errors %v)",
			claims.counts[success], claims.counts[soldOut], claims.counts, claims.kinds)
	}
	for k, counts := range claims.byServer {
		if counts[success]+counts[soldOut] != cfg.residents/2 || counts[success] == 0 {
			t.Errorf("voucherd %d answered %d successes and %d sold_out: want half the crowd, some of it winning", k+1, counts[success], counts[soldOut])
		}
	}

	// The redemption: 50 cashiers, alternately through each process, all
	// press for the first voucher at once, each with a key of its own.
	vs, err := claimedVouchers(ctx, s.database, fx.campaignID)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no claimed voucher to redeem")
	}
	reqs := make([]request, len(fx.cashiers.tokens))
	for i, tok := range fx.cashiers.tokens {
		reqs[i] = redeemRequest(f, vs[0], tok)
	}
	wave := summarize(newCrowd(f.urls(redeemPath), nil, len(reqs), cfg.timeout).runAll(ctx, reqs))
	t.Logf("redemption of voucher %d by %d cashiers: %v", vs[0].id, len(reqs), wave.counts)
	if wave.counts[success] != 1 || wave.counts[redeemed] != 49 {
		t.Errorf("%d redemptions and %d already_redeemed, want 1 and 49 (answers by class %v, errors %v)",
			wave.counts[success], wave.counts[redeemed], wave.counts, wave.kinds)
	}
	for k, counts := range wave.byServer {
		if n := counts[success] + counts[redeemed]; n != 25 {
			t.Errorf("voucherd %d answered %d of the cashiers' presses as expected, want 25 (%v)", k+1, n, counts)
		}
	}
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}

	// The stored truth, once both have stopped: loadgen's own invariants
	// of the drop (100 vouchers, no resident two, the counters) and the books.
	checks, err := checkInvariants(ctx, s.database, fx, cfg, []report{claims})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("FAIL %s: %s", c.name, c.detail)
		}
	}
	red, err := readFigures(ctx, s.database, func(st *db.Store) (db.RedemptionFigures, error) {
		return st.RedemptionFigures(ctx, fx.campaignID, fx.tierID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if red.Redemptions != 1 || red.RedeemedVouchers != 1 || red.Doubles != 0 {
		t.Errorf("%d redemption rows, %d vouchers redeemed, %d with more than one: want 1, 1, 0", red.Redemptions, red.RedeemedVouchers, red.Doubles)
	}
}
