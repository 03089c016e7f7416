package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"cqvoucher/app/apptest"
)

// derivedDump reads every derived figure: the counters of tiers and
// campaigns (their whole rows) and the derived tables, leaving out rows
// that the live transactions keep at zero after a reversal.
func derivedDump(t *testing.T, e *apptest.Env) map[string][]string {
	t.Helper()
	// The rows themselves, not counted(…): on PostgreSQL fold every delta
	// into them first, which the dump then also checks.
	for {
		n, err := e.Store.FoldCounters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	out := map[string][]string{}
	for name, q := range map[string]string{
		"tiers":                 `SELECT * FROM tiers ORDER BY id`,
		"campaigns":             `SELECT * FROM campaigns ORDER BY id`,
		"resident_claims":       `SELECT * FROM resident_claims ORDER BY 1, 2`,
		"resident_day_claims":   `SELECT * FROM resident_day_claims ORDER BY 1, 2, 3`,
		"resident_tier_claims":  `SELECT * FROM resident_tier_claims ORDER BY 1, 2`,
		"rollup_hour":           `SELECT * FROM rollup_hour WHERE claims + redemptions + reversals > 0 ORDER BY 1, 2`,
		"rollup_tier":           `SELECT * FROM rollup_tier WHERE claims + redemptions + reversals > 0 ORDER BY 1, 2`,
		"rollup_merchant":       `SELECT * FROM rollup_merchant WHERE redemptions + reversals > 0 ORDER BY 1, 2`,
		"campaign_redeemers":    `SELECT * FROM campaign_redeemers WHERE live > 0 ORDER BY 1, 2`,
		"campaign_merchant_use": `SELECT * FROM campaign_merchant_use WHERE live > 0 ORDER BY 1, 2`,
		"campaign_pairs":        `SELECT * FROM campaign_pairs WHERE live > 0 ORDER BY 1, 2, 3`,
	} {
		rows, err := e.Store.QueryRows(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[name] = append(out[name], fmt.Sprint(vals...))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if len(out[name]) == 0 {
			t.Fatalf("the fixture has no %s", name)
		}
	}
	return out
}

func diffDumps(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for name, w := range want {
		if g := got[name]; !slices.Equal(g, w) {
			t.Errorf("%s after the rebuild:\n%v\nwant (as the live transactions kept it):\n%v", name, g, w)
		}
	}
}

// TestRebuildDerivedKeepsWhatTheTransactionsKept: on books the live
// transactions kept (claims at drops with day and tier limits, lapsed and
// recycled stock, redemptions, a reversal, expiries), a rebuild changes
// no figure.
func TestRebuildDerivedKeepsWhatTheTransactionsKept(t *testing.T) {
	apptest.EachBackend(t, testRebuildDerivedKeepsWhatTheTransactionsKept)
}

func testRebuildDerivedKeepsWhatTheTransactionsKept(t *testing.T) {
	e := booksFixture(t)
	before := derivedDump(t, e)
	if err := e.Store.RebuildDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	diffDumps(t, derivedDump(t, e), before)
}

// TestRebuildDerivedRepairsCountersChangedByHand changes several derived
// figures by hand; the check fails, and after a rebuild it passes and every
// figure is back to what the transactions kept.
func TestRebuildDerivedRepairsCountersChangedByHand(t *testing.T) {
	apptest.EachBackend(t, testRebuildDerivedRepairsCountersChangedByHand)
}

func testRebuildDerivedRepairsCountersChangedByHand(t *testing.T) {
	e := booksFixture(t)
	before := derivedDump(t, e)
	e.Exec(t,
		`UPDATE tiers SET expired = 0, claimed_count = claimed_count + 1, remaining = remaining - 1 WHERE id = (SELECT MIN(id) FROM tiers WHERE expired > 0 AND remaining > 0)`,
		`UPDATE tiers SET quantity = quantity + 5, released = released + 5, remaining = remaining + 5 WHERE id = `+dropTier,
		`UPDATE campaigns SET subsidy_fen = 0, reach_residents = 0, redeemed_count = 0`,
		`DELETE FROM resident_day_claims`,
		`UPDATE resident_tier_claims SET claimed = claimed + 1`,
		`UPDATE resident_claims SET claimed = 1`,
		`UPDATE rollup_hour SET claims = claims + 2`,
		`DELETE FROM campaign_pairs`,
	)
	want := []string{"tier counters = recount", "campaign counters = recount", "resident_claims = recount", "resident_day_claims = recount",
		"resident_tier_claims = recount", "rollup_hour = recount", "campaign_pairs = recount"}
	if e.Store.Postgres() {
		// The tier whose remaining was taken by hand no longer matches its buckets.
		want = slices.Insert(want, 2, "stock buckets = tier remaining")
	}
	if results, failed := checkBooks(t, e.Store); !slices.Equal(failed, want) {
		t.Fatalf("counters changed by hand:%s\nwant failing: %v", describe(results, failed), want)
	}
	if err := e.Store.RebuildDerived(context.Background()); err != nil {
		t.Fatal(err)
	}
	if results, failed := checkBooks(t, e.Store); len(failed) > 0 {
		t.Fatalf("after the rebuild:%s", describe(results, failed))
	}
	diffDumps(t, derivedDump(t, e), before)
}
