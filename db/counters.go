package db

import (
	"context"
	"fmt"
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

// counterStmt adds figures to one row. Its parameters are the row's key
// (?1, ?2) followed by its figures (?3 and on, as many as width).
type counterStmt struct {
	sql   string
	width int
}

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

// flush writes every row's sum, once.
func (b *batchCounters) flush(ctx context.Context, tx *Tx) error {
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

// The counters of claims, redemptions and reversals. A campaign's own
// counters are keyed by its id alone: their statements bind the unused
// second key (nil) as "CAST(?2 AS TEXT) IS NULL" (PostgreSQL must know a
// parameter's type), so that every counter statement takes
// the same parameters.
var (
	campaignClaims = &counterStmt{`UPDATE campaigns SET claimed_count = claimed_count + ?3 WHERE id = ?1 AND CAST(?2 AS TEXT) IS NULL`, 1}
	hourClaims     = &counterStmt{`INSERT INTO rollup_hour (campaign_id, hour, claims) VALUES (?1, ?2, ?3)
		ON CONFLICT (campaign_id, hour) DO UPDATE SET claims = rollup_hour.claims + ?3`, 1}
	tierClaims = &counterStmt{`INSERT INTO rollup_tier (campaign_id, tier_id, claims) VALUES (?1, ?2, ?3)
		ON CONFLICT (campaign_id, tier_id) DO UPDATE SET claims = rollup_tier.claims + ?3`, 1}

	hourFigures = &counterStmt{`INSERT INTO rollup_hour (campaign_id, hour, redemptions, reversals, subsidy_fen, consumption_fen, claim_to_redeem_s, near_threshold)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (campaign_id, hour) DO UPDATE SET ` + rollupSet("rollup_hour"), 6}
	tierFigures = &counterStmt{`INSERT INTO rollup_tier (campaign_id, tier_id, redemptions, reversals, subsidy_fen, consumption_fen, claim_to_redeem_s, near_threshold)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (campaign_id, tier_id) DO UPDATE SET ` + rollupSet("rollup_tier"), 6}
	merchantFigures = &counterStmt{`INSERT INTO rollup_merchant (campaign_id, merchant_id, redemptions, reversals, subsidy_fen, consumption_fen, claim_to_redeem_s, near_threshold)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (campaign_id, merchant_id) DO UPDATE SET ` + rollupSet("rollup_merchant"), 6}

	reachResidents = &counterStmt{`UPDATE campaigns SET reach_residents = reach_residents + ?3 WHERE id = ?1 AND CAST(?2 AS TEXT) IS NULL`, 1}
	reachMerchants = &counterStmt{`UPDATE campaigns SET reach_merchants = reach_merchants + ?3 WHERE id = ?1 AND CAST(?2 AS TEXT) IS NULL`, 1}
)
