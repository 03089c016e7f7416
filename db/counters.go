package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Counters touched once per batch.
//
// Many steps of one batch add to the same few rows: every claim of a drop
// adds one to its campaign's claimed_count and to the same hour's and
// tier's rollup rows. Those additions commute and no step decides
// anything by them (the guards read stock, limits and voucher rows, never
// a counter or rollup), so instead of one UPDATE per step and row the
// writer adds each row's sum once, just before the batch's COMMIT, in the
// same transaction. A step's additions count only if the step succeeded:
// a refused step's are dropped with its savepoint. Outside the writer (a
// read-only store) they are applied at once.

// counterStmt adds figures to one row of table. Its parameters are the
// row's key (?1, ?2) followed by its figures (?3 and on, one per column).
type counterStmt struct {
	name  string    // its name in counter_deltas (PostgreSQL)
	table string    // the row's table
	keys  [2]string // the row's key columns; keys[1] is "" where keys[0] alone is the key
	cols  []string  // the columns the figures add to, in order
	sql   string
	width int
	order int // its place in counterStmts
}

// declareCounter declares a counter statement: an UPDATE of a row keyed by its id
// alone, or an upsert of a row keyed by two columns (a rollup's). A row
// keyed by its id alone binds the unused second key (nil) as
// "CAST(?2 AS TEXT) IS NULL" (PostgreSQL must know a parameter's type),
// so that every counter statement takes the same parameters.
func declareCounter(name, table string, keys [2]string, cols ...string) *counterStmt {
	set := make([]string, len(cols))
	params := make([]string, len(cols))
	for i, c := range cols {
		params[i] = "?" + strconv.Itoa(i+3)
		set[i] = c + " = " + table + "." + c + " + " + params[i]
	}
	var q string
	if keys[1] == "" {
		q = `UPDATE ` + table + ` SET ` + strings.Join(set, ", ") + ` WHERE ` + keys[0] + ` = ?1 AND CAST(?2 AS TEXT) IS NULL`
	} else {
		q = `INSERT INTO ` + table + ` (` + keys[0] + `, ` + keys[1] + `, ` + strings.Join(cols, ", ") + `) VALUES (?1, ?2, ` +
			strings.Join(params, ", ") + `) ON CONFLICT (` + keys[0] + `, ` + keys[1] + `) DO UPDATE SET ` + strings.Join(set, ", ")
	}
	c := &counterStmt{name: name, table: table, keys: keys, cols: cols, sql: q, width: len(cols), order: len(counterStmts)}
	counterStmts = append(counterStmts, c)
	return c
}

// counterStmts is every counter statement, in the order they are declared:
// the order in which a fold writes their rows.
var counterStmts []*counterStmt

// counterAdd is one step's addition to one row.
type counterAdd struct {
	stmt   *counterStmt
	k1, k2 any // comparable keys: int64 or string
	n      [6]int64
}

type counterRow struct {
	stmt   *counterStmt
	k1, k2 any
}

// stepCounters collects one step's additions.
type stepCounters struct{ adds []counterAdd }

// batchCounters sums the additions of a batch's succeeded steps, per row,
// in the order the rows were first touched.
type batchCounters struct {
	order []counterRow
	sums  map[counterRow]*[6]int64
}

type countersKey struct{}

// addCounter adds n to the row of stmt keyed (k1, k2): at the end of the
// batch when the step runs on the writer, else at once.
func addCounter(ctx context.Context, tx *Tx, stmt *counterStmt, k1, k2 any, n ...int64) error {
	if len(n) != stmt.width {
		return fmt.Errorf("db: counter takes %d figures, got %d", stmt.width, len(n))
	}
	a := counterAdd{stmt: stmt, k1: k1, k2: k2}
	copy(a.n[:], n)
	if sc, ok := ctx.Value(countersKey{}).(*stepCounters); ok {
		sc.adds = append(sc.adds, a)
		return nil
	}
	return execCounter(ctx, tx, counterRow{stmt, k1, k2}, &a.n)
}

// keep adds a succeeded step's additions to the batch's sums.
func (b *batchCounters) keep(sc *stepCounters) {
	for _, a := range sc.adds {
		row := counterRow{a.stmt, a.k1, a.k2}
		sum, ok := b.sums[row]
		if !ok {
			if b.sums == nil {
				b.sums = map[counterRow]*[6]int64{}
			}
			sum = new([6]int64)
			b.sums[row] = sum
			b.order = append(b.order, row)
		}
		for i := range a.n {
			sum[i] += a.n[i]
		}
	}
	sc.adds = sc.adds[:0]
}

// flush writes every row's sum, once: into the rows on SQLite, as rows
// of counter_deltas on PostgreSQL (hotrows.go).
func (b *batchCounters) flush(ctx context.Context, tx *Tx) error {
	if tx.d.postgres {
		return flushDeltas(ctx, tx, b)
	}
	for _, row := range b.order {
		if err := execCounter(ctx, tx, row, b.sums[row]); err != nil {
			return err
		}
	}
	return nil
}

func execCounter(ctx context.Context, tx *Tx, row counterRow, n *[6]int64) error {
	args := make([]any, 0, 2+row.stmt.width)
	args = append(args, row.k1, row.k2)
	for _, v := range n[:row.stmt.width] {
		args = append(args, v)
	}
	if _, err := tx.ExecContext(ctx, row.stmt.sql, args...); err != nil {
		return fmt.Errorf("db: counter: %w", err)
	}
	return nil
}

// The counters of claims, redemptions and reversals, in the order their
// rows are locked when a fold writes them: tiers, then campaigns, as a
// redemption locks them, then the rollups, which only counters write.
var (
	// A claim's take from its tier's stock on PostgreSQL, where the stock
	// itself is in tier_stock's buckets (takeStock); SQLite's claim updates
	// the tier row at once.
	tierStock       = declareCounter("tier_stock", "tiers", [2]string{"id"}, "remaining", "claimed_count")
	tierRedemptions = declareCounter("tier_redemptions", "tiers", [2]string{"id"}, "redeemed_count", "reversed_count")

	campaignClaims = declareCounter("campaign_claims", "campaigns", [2]string{"id"}, "claimed_count")
	reachResidents = declareCounter("reach_residents", "campaigns", [2]string{"id"}, "reach_residents")
	reachMerchants = declareCounter("reach_merchants", "campaigns", [2]string{"id"}, "reach_merchants")

	hourClaims      = declareCounter("hour_claims", "rollup_hour", [2]string{"campaign_id", "hour"}, "claims")
	tierClaims      = declareCounter("tier_claims", "rollup_tier", [2]string{"campaign_id", "tier_id"}, "claims")
	hourFigures     = declareCounter("hour_figures", "rollup_hour", [2]string{"campaign_id", "hour"}, rollupFigures...)
	tierFigures     = declareCounter("tier_figures", "rollup_tier", [2]string{"campaign_id", "tier_id"}, rollupFigures...)
	merchantFigures = declareCounter("merchant_figures", "rollup_merchant", [2]string{"campaign_id", "merchant_id"}, rollupFigures...)
)

// rollupFigures are a rollup row's figures of redemptions and reversals.
var rollupFigures = []string{"redemptions", "reversals", "subsidy_fen", "consumption_fen", "claim_to_redeem_s", "near_threshold"}
