package main

import (
	"context"
	"fmt"

	"cqvoucher/db"
)

// checkInvariants reads the stored truth after the drop from the run's
// database (the servers have stopped), and compares it with what the
// crowd was told.
func checkInvariants(ctx context.Context, database string, fx fixture, cfg config, passes []report) ([]check, error) {
	f, err := readFigures(ctx, database, func(st *db.Store) (db.DropFigures, error) {
		return st.DropFigures(ctx, fx.campaignID, fx.tierID)
	})
	if err != nil {
		return nil, err
	}

	var wins int64
	var fails, lost, locked int
	for _, r := range passes {
		wins += int64(r.counts[success])
		fails += r.counts[server5xx]
		lost += r.counts[transport]
		locked += r.locked
	}
	expect := int64(min(cfg.residents, cfg.stock)) // every voucher goes when R ≥ S
	wantLeft := int64(cfg.stock) - expect
	books, err := checkBooks(ctx, database)
	if err != nil {
		return nil, err
	}
	return append([]check{
		{"vouchers == successes == min(R, S)", f.Vouchers == wins && wins == expect,
			fmt.Sprintf("%d vouchers stored, %d successful answers, expected %d", f.Vouchers, wins, expect)},
		{"no resident holds more than one voucher", f.Doubles == 0,
			fmt.Sprintf("%d residents with more than one", f.Doubles)},
		{"tiers.remaining == S − vouchers", f.Remaining == wantLeft,
			fmt.Sprintf("remaining %d, expected %d", f.Remaining, wantLeft)},
		{"tiers.claimed_count == vouchers", f.TierClaimed == f.TierVouchers,
			fmt.Sprintf("claimed_count %d, vouchers of the tier %d", f.TierClaimed, f.TierVouchers)},
		{"campaigns.claimed_count == vouchers", f.CampaignClaimed == f.Vouchers,
			fmt.Sprintf("claimed_count %d, vouchers %d", f.CampaignClaimed, f.Vouchers)},
		// The promise to the crowd, checked from its side.
		{"every press answered, never 5xx nor \"database is locked\"", fails == 0 && lost == 0 && locked == 0,
			fmt.Sprintf("%d 5xx, %d without an answer, %d \"database is locked\"", fails, lost, locked)},
	}, books...), nil
}

// checkBooks runs the product's own check of every invariant of the books
// (voucherd check) on the database the run left, after the drop and the
// redemption wave alike.
func checkBooks(ctx context.Context, database string) ([]check, error) {
	results, err := readFigures(ctx, database, func(st *db.Store) ([]db.CheckResult, error) { return st.Check(ctx) })
	if err != nil {
		return nil, err
	}
	out := make([]check, len(results))
	for i, r := range results {
		out[i] = check{"books: " + r.Name, r.Pass, r.Figures}
	}
	return out, nil
}
