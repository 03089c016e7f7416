package main

import (
	"context"
	"database/sql"
	"fmt"

	"cqvoucher/db"
)

// checkInvariants reads the stored truth after the drop, from the database
// file opened read-only (the server has stopped), and compares it with
// what the crowd was told.
func checkInvariants(ctx context.Context, path string, fx fixture, cfg config, passes []report) ([]check, error) {
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	count := func(query string, args ...any) (n int64) {
		if err == nil {
			err = conn.QueryRowContext(ctx, query, args...).Scan(&n)
		}
		return n
	}
	vouchers := count(`SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, fx.campaignID)
	tierVouchers := count(`SELECT COUNT(*) FROM vouchers WHERE tier_id = ?`, fx.tierID)
	doubles := count(`SELECT COUNT(*) FROM (SELECT resident_id FROM vouchers WHERE campaign_id = ?
		GROUP BY resident_id HAVING COUNT(*) > 1)`, fx.campaignID)
	remaining := count(`SELECT remaining FROM tiers WHERE id = ?`, fx.tierID)
	tierClaimed := count(`SELECT claimed_count FROM tiers WHERE id = ?`, fx.tierID)
	campaignClaimed := count(`SELECT claimed_count FROM campaigns WHERE id = ?`, fx.campaignID)
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
	books, err := checkBooks(ctx, path)
	if err != nil {
		return nil, err
	}
	return append([]check{
		{"vouchers == successes == min(R, S)", vouchers == wins && wins == expect,
			fmt.Sprintf("%d vouchers stored, %d successful answers, expected %d", vouchers, wins, expect)},
		{"no resident holds more than one voucher", doubles == 0,
			fmt.Sprintf("%d residents with more than one", doubles)},
		{"tiers.remaining == S − vouchers", remaining == wantLeft,
			fmt.Sprintf("remaining %d, expected %d", remaining, wantLeft)},
		{"tiers.claimed_count == vouchers", tierClaimed == tierVouchers,
			fmt.Sprintf("claimed_count %d, vouchers of the tier %d", tierClaimed, tierVouchers)},
		{"campaigns.claimed_count == vouchers", campaignClaimed == vouchers,
			fmt.Sprintf("claimed_count %d, vouchers %d", campaignClaimed, vouchers)},
		// The promise to the crowd, checked from its side.
		{"every press answered, never 5xx nor \"database is locked\"", fails == 0 && lost == 0 && locked == 0,
			fmt.Sprintf("%d 5xx, %d without an answer, %d \"database is locked\"", fails, lost, locked)},
	}, books...), nil
}

// checkBooks runs the product's own check of every invariant of the books
// (voucherd check) on the database the run left, after the drop and the
// redemption wave alike.
func checkBooks(ctx context.Context, path string) ([]check, error) {
	st, err := db.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	results, err := st.Check(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]check, len(results))
	for i, r := range results {
		out[i] = check{"books: " + r.Name, r.Pass, r.Figures}
	}
	return out, nil
}
