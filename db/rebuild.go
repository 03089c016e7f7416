package db

import (
	"context"
	"strings"
)

// Everything derived is defined once, here, as a recount of the raw rows
// (vouchers, redemptions, drops): RebuildDerived writes these recounts and
// Check compares the stored figures with them, so the two cannot disagree
// about what a counter means.

// derivedTable is a table whose rows are all a recount of other rows.
type derivedTable struct {
	table  string
	keys   []string // the primary key
	values []string // the counted columns
	// recount selects keys then values. It may read raw_events, the
	// events of rawEvents for every campaign.
	recount string
}

func (d derivedTable) cols() string {
	return strings.Join(append(append([]string{}, d.keys...), d.values...), ", ")
}

// stored selects the table's rows in recount order, leaving out rows whose
// every figure is zero: the live transactions keep a row whose last
// redemption was reversed, where a recount has no row at all.
func (d derivedTable) stored() string {
	zero := make([]string, len(d.values))
	for i, v := range d.values {
		zero[i] = v + " = 0"
	}
	return `SELECT ` + d.cols() + ` FROM counted(` + d.table + `) AS stored WHERE NOT (` + strings.Join(zero, " AND ") + `)`
}

var rollupValues = strings.Split(rollupCols, ", ")

// liveRedemptions joins each live redemption to its voucher.
const liveRedemptions = `redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE r.reversed_at IS NULL`

var derivedTables = []derivedTable{
	{table: "resident_claims", keys: []string{"campaign_id", "resident_id"}, values: []string{"claimed"},
		recount: `SELECT campaign_id, resident_id, COUNT(*) AS claimed FROM vouchers GROUP BY campaign_id, resident_id`},
	// The day and tier counters exist only where the campaign has that
	// limit: the claim keeps them only then.
	{table: "resident_day_claims", keys: []string{"campaign_id", "resident_id", "day"}, values: []string{"claimed"},
		recount: `SELECT v.campaign_id, v.resident_id, local_day(v.claimed_at) AS day, COUNT(*) AS claimed
			FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id WHERE c.per_day_limit > 0
			GROUP BY v.campaign_id, v.resident_id, local_day(v.claimed_at)`},
	{table: "resident_tier_claims", keys: []string{"tier_id", "resident_id"}, values: []string{"claimed"},
		recount: `SELECT v.tier_id, v.resident_id, COUNT(*) AS claimed
			FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id WHERE c.per_tier_limit > 0
			GROUP BY v.tier_id, v.resident_id`},
	{table: "rollup_hour", keys: []string{"campaign_id", "hour"}, values: rollupValues,
		recount: `SELECT campaign_id, hour, ` + rawSums + ` FROM raw_events GROUP BY campaign_id, hour`},
	{table: "rollup_tier", keys: []string{"campaign_id", "tier_id"}, values: rollupValues,
		recount: `SELECT campaign_id, tier_id, ` + rawSums + ` FROM raw_events GROUP BY campaign_id, tier_id`},
	{table: "rollup_merchant", keys: []string{"campaign_id", "merchant_id"}, values: rollupValues[1:], // no claims: a claim has no merchant
		recount: `SELECT campaign_id, merchant_id, SUM(redemptions), SUM(reversals), SUM(subsidy_fen), SUM(consumption_fen),
			SUM(claim_to_redeem_s), SUM(near_threshold) FROM raw_events WHERE merchant_id <> 0 GROUP BY campaign_id, merchant_id`},
	{table: "campaign_redeemers", keys: []string{"campaign_id", "resident_id"}, values: []string{"live"},
		recount: `SELECT r.campaign_id, v.resident_id, COUNT(*) FROM ` + liveRedemptions + ` GROUP BY r.campaign_id, v.resident_id`},
	{table: "campaign_merchant_use", keys: []string{"campaign_id", "merchant_id"}, values: []string{"live"},
		recount: `SELECT campaign_id, merchant_id, COUNT(*) FROM redemptions WHERE reversed_at IS NULL GROUP BY campaign_id, merchant_id`},
	{table: "campaign_pairs", keys: []string{"campaign_id", "resident_id", "merchant_id"}, values: []string{"live"},
		recount: `SELECT r.campaign_id, v.resident_id, r.merchant_id, COUNT(*) FROM ` + liveRedemptions + `
			GROUP BY r.campaign_id, v.resident_id, r.merchant_id`},
}

// counter is a column of a row that recounts the rows belonging to it.
type counter struct{ col, recount string }

// counterSet is the counter columns of one table, each recount a scalar
// subquery on the table's row (tiers.id, campaigns.id).
type counterSet struct {
	table, noun string
	counters    []counter
}

const (
	tierIssued = `(SELECT COUNT(*) FROM vouchers v WHERE v.tier_id = tiers.id)`
	// A drop campaign's stock is its drops: in all, and released so far.
	// Other campaigns release everything at creation.
	tierIsDrops    = `EXISTS (SELECT 1 FROM campaigns c WHERE c.id = tiers.campaign_id AND c.release_mode = 'drops')`
	tierQuantity   = `CASE WHEN ` + tierIsDrops + ` THEN (SELECT COALESCE(SUM(d.quantity), 0) FROM drops d WHERE d.tier_id = tiers.id) ELSE tiers.quantity END`
	tierReleased   = `CASE WHEN ` + tierIsDrops + ` THEN (SELECT COALESCE(SUM(d.quantity), 0) FROM drops d WHERE d.tier_id = tiers.id AND d.released_at IS NOT NULL) ELSE tiers.released END`
	tierRedemption = `(SELECT COUNT(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE v.tier_id = tiers.id AND r.reversed_at `
)

var tierCounters = counterSet{table: "tiers", noun: "tier", counters: []counter{
	{"quantity", tierQuantity},
	{"released", tierReleased},
	{"claimed_count", tierIssued},
	// Released stock is claimed, still there, or lapsed at a drop.
	{"remaining", `(` + tierReleased + `) - tiers.lapsed - ` + tierIssued},
	{"redeemed_count", tierRedemption + `IS NULL)`},
	{"reversed_count", tierRedemption + `IS NOT NULL)`},
	{"expired", `(SELECT COUNT(*) FROM vouchers v WHERE v.tier_id = tiers.id AND v.lapsed_at IS NOT NULL)`},
}}

var campaignCounters = counterSet{table: "campaigns", noun: "campaign", counters: []counter{
	{"claimed_count", `(SELECT COUNT(*) FROM vouchers v WHERE v.campaign_id = campaigns.id)`},
	{"redeemed_count", `(SELECT COUNT(*) FROM redemptions r WHERE r.campaign_id = campaigns.id AND r.reversed_at IS NULL)`},
	{"reversed_count", `(SELECT COUNT(*) FROM redemptions r WHERE r.campaign_id = campaigns.id AND r.reversed_at IS NOT NULL)`},
	{"subsidy_fen", `(SELECT COALESCE(SUM(r.discount_fen), 0) FROM redemptions r WHERE r.campaign_id = campaigns.id AND r.reversed_at IS NULL)`},
	{"consumption_fen", `(SELECT COALESCE(SUM(r.bill_fen), 0) FROM redemptions r WHERE r.campaign_id = campaigns.id AND r.reversed_at IS NULL)`},
	// Reach: distinct residents and merchants with a live redemption.
	{"reach_residents", `(SELECT COUNT(DISTINCT v.resident_id) FROM ` + liveRedemptions + ` AND r.campaign_id = campaigns.id)`},
	{"reach_merchants", `(SELECT COUNT(DISTINCT r.merchant_id) FROM redemptions r WHERE r.campaign_id = campaigns.id AND r.reversed_at IS NULL)`},
}}

var counterSets = []counterSet{tierCounters, campaignCounters}

// update sets every counter of the set in one statement: the CHECKs on
// tiers (claimed + remaining ≤ quantity) hold only for the finished row.
func (cs counterSet) update() string {
	set := make([]string, len(cs.counters))
	for i, c := range cs.counters {
		set[i] = c.col + " = (" + c.recount + ")"
	}
	return `UPDATE ` + cs.table + ` SET ` + strings.Join(set, ",\n\t")
}

// RebuildDerived recomputes, from the raw vouchers, redemptions and drops,
// every counter and rollup that the claim, redemption, reversal and expiry
// transactions keep: for a season loaded in bulk, and for an operator who
// doubts a figure. One transaction: readers see the old figures or the new ones.
func (s *Store) RebuildDerived(ctx context.Context) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		var qs []string
		if tx.d.postgres {
			// The recount counts every claim, redemption and reversal: the
			// deltas not yet folded go, and none may come until the
			// recount is stored. The stock first, in the order a claim takes
			// them (a claim holding a bucket is let finish).
			qs = append(qs, `LOCK TABLE tier_stock IN EXCLUSIVE MODE`, `LOCK TABLE counter_deltas IN EXCLUSIVE MODE`,
				`DELETE FROM counter_deltas`)
		}
		// The events are read once for the three rollups.
		qs = append(qs, `CREATE TEMP TABLE raw_events AS `+rawEvents("IS NOT NULL"))
		for _, d := range derivedTables {
			qs = append(qs, `DELETE FROM `+d.table, `INSERT INTO `+d.table+` (`+d.cols()+`) `+d.recount)
		}
		qs = append(qs, `DROP TABLE raw_events`)
		for _, cs := range counterSets {
			qs = append(qs, cs.update())
		}
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		// The stock is what the recount left in each tier.
		return setStock(ctx, tx, `t.remaining`, `1 = 1`)
	})
}

// BulkTx runs fn in one write transaction: tests change rows by hand
// with it (apptest.Env.Exec), or hold the writer while steps queue.
func (s *Store) BulkTx(ctx context.Context, fn func(*Tx) error) error {
	return s.tx(ctx, func(_ context.Context, tx *Tx) error { return fn(tx) })
}
