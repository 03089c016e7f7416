package storetest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/db"
	"cqvoucher/seeds"
)

// booksFixture is a database with rows in every table the books check
// reads: a small generated season (reversals, expiries) and a drop
// campaign with day and tier limits, lapsing and recycled stock, whose
// claims, redemptions, reversal, redemption again, expiry and paid
// statement all went through the domain. The clock moves in whole
// seconds here, so that no invariant depends on sub-second rounding.
func booksFixture(t *testing.T) *apptest.Env {
	t.Helper()
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	if _, err := seeds.LoadSeason(ctx, e.Store, e.App, seeds.SeasonOptions{Redemptions: 200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now() // 10:00 in Chongqing
	c := e.Approved(t, e.Maker, e.Approver, app.CampaignInput{
		Name: "解放碑每日十点抢券", District: "500103", Category: "catering", Budget: "10000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "4"}, {Face: "10", Threshold: "0", Quantity: "4"}},
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "1", PerResidentLimit: "3", PerDayLimit: "1", PerTierLimit: "2",
		ReleaseMode: "drops", DropDaily: "10:00", DropDays: "3", DropRollover: "0", RecycleExpired: "1",
	})
	var residents []app.Resident
	for i := range 3 {
		r, _ := e.ResidentSession(t, fmt.Sprintf("1370000%04d", i))
		residents = append(residents, r)
	}
	for day := range 2 {
		var vs []app.Voucher
		for i, r := range residents {
			e.Clock.Advance(time.Second)
			v, err := e.App.Claim(ctx, r, c.ID, c.Tiers[(i+day)%2].ID, "")
			if err != nil {
				t.Fatalf("day %d claim %d: %v", day, i, err)
			}
			vs = append(vs, v)
		}
		e.Clock.Advance(time.Minute)
		rc, err := e.App.Redeem(ctx, e.Cashier, vs[0].Code, 12000, fmt.Sprintf("day%d-a", day))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Redeem(ctx, e.Cashier, vs[1].Code, 13000, fmt.Sprintf("day%d-b", day)); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Minute)
		if _, err := e.App.Reverse(ctx, e.Cashier, rc.Redemption.ID); err != nil {
			t.Fatal(err)
		}
		if day == 0 { // the refunded voucher is spent again
			e.Clock.Advance(time.Minute)
			if _, err := e.App.Redeem(ctx, e.Cashier, vs[0].Code, 15000, "day0-again"); err != nil {
				t.Fatal(err)
			}
		}
		e.Clock.Advance(now.Add(time.Duration(day+1) * 24 * time.Hour).Sub(e.Clock.Now())) // the next day's drop
		if _, err := e.App.SweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
	}
	admin := e.NewOfficer(t, "books-admin", app.CityCode, false)
	yesterday := e.Clock.Now().In(app.Shanghai).AddDate(0, 0, -1).Format("2006-01-02")
	if _, err := e.App.MarkPaid(ctx, admin, app.StatementKey{MerchantID: e.Merchant.ID, Day: yesterday, FundingDistrict: "500103"}); err != nil {
		t.Fatal(err)
	}
	// The day before is paid too, and then a refund of it comes: a
	// clawback, open until the merchant's next payment.
	dayBefore := e.Clock.Now().In(app.Shanghai).AddDate(0, 0, -2).Format("2006-01-02")
	if _, err := e.App.MarkPaid(ctx, admin, app.StatementKey{MerchantID: e.Merchant.ID, Day: dayBefore, FundingDistrict: "500103"}); err != nil {
		t.Fatal(err)
	}
	lines, err := e.App.RefundableRedemptions(ctx, e.Cashier)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.ReversedAt == nil && l.IdempotencyKey == "day0-b" {
			if red, err := e.App.Reverse(ctx, e.Cashier, l.ID); err != nil || red.ClawbackFen != l.DiscountFen {
				t.Fatalf("refund of a paid day: %v, clawback %v of %v", err, red.ClawbackFen, l.DiscountFen)
			}
			break
		}
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM clawbacks`); n != 1 {
		t.Fatalf("%d clawbacks in the books fixture, want 1", n)
	}
	return e
}

// invariantNames is every invariant the check verifies, in its order.
var invariantNames = []string{
	"issued ≤ released ≤ quantity", "committed ≤ budget", "live face + subsidy ≤ budget", "subsidy ≤ budget",
	"no voucher both lapsed and redeemed", "at most one live redemption per voucher", "voucher status matches its redemptions",
	"no resident over the campaign limit", "no resident over the day limit", "no resident over the tier limit",
	"tier counters = recount", "campaign counters = recount",
	"resident_claims = recount", "resident_day_claims = recount", "resident_tier_claims = recount",
	"rollup_hour = recount", "rollup_tier = recount", "rollup_merchant = recount",
	"campaign_redeemers = recount", "campaign_merchant_use = recount", "campaign_pairs = recount",
	"paid statements = their day's redemptions", "clawbacks = reversals of paid days", "payment batches = their statements", "audit chain intact",
}

// invariantsOf is what the check verifies on st's database: on
// PostgreSQL also the tiers' stock buckets, after the counters.
func invariantsOf(st *db.Store) []string {
	if !st.Postgres() {
		return invariantNames
	}
	i := slices.Index(invariantNames, "campaign counters = recount") + 1
	return slices.Insert(slices.Clone(invariantNames), i, "stock buckets = tier remaining")
}

// checkBooks runs the check and returns its results by name, and the names
// of those that failed, in order.
func checkBooks(t *testing.T, st *db.Store) (map[string]db.CheckResult, []string) {
	t.Helper()
	results, err := st.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names, failed []string
	byName := map[string]db.CheckResult{}
	for _, r := range results {
		names = append(names, r.Name)
		byName[r.Name] = r
		if !r.Pass {
			failed = append(failed, r.Name)
		}
	}
	if want := invariantsOf(st); !slices.Equal(names, want) {
		t.Fatalf("invariants checked:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	return byName, failed
}

func describe(results map[string]db.CheckResult, names []string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %s (%s)", n, results[n].Figures)
	}
	return b.String()
}

func TestCheckPassesOnSeasonAndDrops(t *testing.T) {
	apptest.EachBackend(t, testCheckPassesOnSeasonAndDrops)
}

func testCheckPassesOnSeasonAndDrops(t *testing.T) {
	e := booksFixture(t)
	results, failed := checkBooks(t, e.Store)
	if len(failed) > 0 {
		t.Fatalf("fresh books fail:%s", describe(results, failed))
	}
	// The fixture reaches every table: no invariant passes by checking nothing.
	for _, name := range invariantsOf(e.Store) {
		if r := results[name]; strings.HasPrefix(r.Figures, "0 ") {
			t.Errorf("%s checked nothing: %s", name, r.Figures)
		}
	}
}

// The drop campaign is the last one made.
const (
	dropCampaign = `(SELECT MAX(id) FROM campaigns)`
	dropTier     = `(SELECT MIN(id) FROM tiers WHERE campaign_id = ` + dropCampaign + `)`
	onceTier     = `(SELECT MIN(id) FROM tiers WHERE claimed_count > 1 AND campaign_id <> ` + dropCampaign + `)`
)

// TestCheckNamesWhatWasBroken breaks the books by hand, one change at a
// time, and expects the check to fail naming exactly the invariants that
// change breaks.
//
// On SQLite only, for now: each case breaks a copy of the file (Backup,
// then OpenReadOnly as voucherd check opens it), and some break it the
// SQLite way (rowid, DROP TRIGGER). The check's statements are the same
// on PostgreSQL, where TestCheckPassesOnSeasonAndDrops runs them.
func TestCheckNamesWhatWasBroken(t *testing.T) {
	t.Run(string(apptest.SQLite), testCheckNamesWhatWasBroken)
}

func testCheckNamesWhatWasBroken(t *testing.T) {
	e := booksFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sql  []string
		want []string
	}{
		{"issued beyond release", []string{`UPDATE tiers SET quantity = claimed_count - 1, released = claimed_count - 1,
			claimed_count = claimed_count - 1, remaining = 0 WHERE id = ` + onceTier},
			[]string{"issued ≤ released ≤ quantity", "tier counters = recount"}},
		{"released beyond quantity", []string{`UPDATE tiers SET released = released + 1, lapsed = lapsed + 1 WHERE id = ` + onceTier},
			[]string{"issued ≤ released ≤ quantity"}},
		{"a budget below what is committed", []string{`UPDATE campaigns SET budget_fen = subsidy_fen + 1
			WHERE id = (SELECT MIN(id) FROM campaigns WHERE subsidy_fen > 0)`},
			[]string{"committed ≤ budget", "live face + subsidy ≤ budget"}},
		{"a redemption's discount beyond the budget", []string{`UPDATE redemptions SET discount_fen = bill_fen
			WHERE id = (SELECT MAX(id) FROM redemptions WHERE reversed_at IS NULL)`, `UPDATE campaigns SET budget_fen = subsidy_fen + 1 WHERE id = ` + dropCampaign},
			// The budget lines read the redemptions, not the campaign's counter.
			[]string{"committed ≤ budget", "live face + subsidy ≤ budget", "subsidy ≤ budget", "campaign counters = recount",
				"rollup_hour = recount", "rollup_tier = recount", "rollup_merchant = recount", "paid statements = their day's redemptions"}},
		{"a lapsed voucher redeemed", []string{`UPDATE vouchers SET lapsed_at = redeemed_at WHERE id = (SELECT MIN(id) FROM vouchers WHERE status = 'redeemed')`},
			[]string{"no voucher both lapsed and redeemed", "tier counters = recount"}},
		{"a voucher spent after it lapsed, then refunded", []string{`UPDATE vouchers SET lapsed_at = claimed_at
			WHERE id = (SELECT MIN(r.voucher_id) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
				WHERE r.reversed_at IS NOT NULL AND v.lapsed_at IS NOT NULL)`},
			[]string{"no voucher both lapsed and redeemed"}},
		{"two live redemptions of one voucher", []string{`DROP INDEX redemptions_live_voucher`,
			`UPDATE redemptions SET reversed_at = NULL, reversed_by = NULL WHERE reversed_at IS NOT NULL
				AND voucher_id IN (SELECT voucher_id FROM redemptions WHERE reversed_at IS NULL)`},
			// A reversal undone by hand: every figure it took back is off, and
			// its day is paid.
			[]string{"at most one live redemption per voucher", "voucher status matches its redemptions",
				"tier counters = recount", "campaign counters = recount", "rollup_hour = recount", "rollup_tier = recount",
				"rollup_merchant = recount", "campaign_redeemers = recount", "campaign_merchant_use = recount", "campaign_pairs = recount",
				"paid statements = their day's redemptions"}},
		{"a voucher redeemed without a redemption", []string{`UPDATE vouchers SET status = 'redeemed', redeemed_at = claimed_at
			WHERE id = (SELECT MIN(id) FROM vouchers WHERE status = 'claimed' AND lapsed_at IS NULL)`},
			[]string{"voucher status matches its redemptions"}},
		{"a resident over the campaign limit", []string{`UPDATE campaigns SET per_resident_limit = 1 WHERE id = ` + dropCampaign},
			[]string{"no resident over the campaign limit"}},
		{"a resident over the day limit", []string{`UPDATE campaigns SET per_day_limit = 1 WHERE id = (SELECT campaign_id FROM vouchers
			GROUP BY campaign_id, resident_id, date(claimed_at, '+8 hours') HAVING COUNT(*) > 1 LIMIT 1)`},
			[]string{"no resident over the day limit", "resident_day_claims = recount"}},
		{"a resident over the tier limit", []string{`UPDATE campaigns SET per_tier_limit = 1 WHERE id = (SELECT campaign_id FROM vouchers
			GROUP BY tier_id, resident_id HAVING COUNT(*) > 1 LIMIT 1)`},
			[]string{"no resident over the tier limit", "resident_tier_claims = recount"}},
		{"a claimed count off by one", []string{`UPDATE tiers SET claimed_count = claimed_count + 1, remaining = remaining - 1
			WHERE id = (SELECT MIN(id) FROM tiers WHERE remaining > 0)`}, []string{"tier counters = recount"}},
		{"an expiry not counted", []string{`UPDATE tiers SET expired = expired - 1 WHERE id = (SELECT MIN(id) FROM tiers WHERE expired > 0)`},
			[]string{"tier counters = recount"}},
		{"a drop's stock not counted", []string{`UPDATE tiers SET quantity = quantity + 1, released = released + 1, remaining = remaining + 1
			WHERE id = ` + dropTier}, []string{"tier counters = recount"}},
		{"a campaign's subsidy off", []string{`UPDATE campaigns SET subsidy_fen = subsidy_fen + 100 WHERE id = ` + dropCampaign},
			[]string{"campaign counters = recount"}},
		{"a campaign's reach off", []string{`UPDATE campaigns SET reach_merchants = reach_merchants + 1 WHERE id = ` + dropCampaign},
			[]string{"campaign counters = recount"}},
		{"a resident's claims off", []string{`UPDATE resident_claims SET claimed = claimed + 1 WHERE rowid = (SELECT MIN(rowid) FROM resident_claims)`},
			[]string{"resident_claims = recount"}},
		{"a day counter lost", []string{`DELETE FROM resident_day_claims WHERE rowid = (SELECT MIN(rowid) FROM resident_day_claims)`},
			[]string{"resident_day_claims = recount"}},
		{"a tier counter off", []string{`UPDATE resident_tier_claims SET claimed = claimed + 1 WHERE rowid = (SELECT MIN(rowid) FROM resident_tier_claims)`},
			[]string{"resident_tier_claims = recount"}},
		{"an hour's claims off", []string{`UPDATE rollup_hour SET claims = claims + 1 WHERE rowid = (SELECT MIN(rowid) FROM rollup_hour)`},
			[]string{"rollup_hour = recount"}},
		{"a tier's subsidy off", []string{`UPDATE rollup_tier SET subsidy_fen = subsidy_fen + 1 WHERE rowid = (SELECT MIN(rowid) FROM rollup_tier)`},
			[]string{"rollup_tier = recount"}},
		{"a merchant's rollup invented", []string{`INSERT INTO rollup_merchant (campaign_id, merchant_id, redemptions)
			SELECT ` + dropCampaign + `, MAX(id), 1 FROM merchants`}, []string{"rollup_merchant = recount"}},
		{"a redeemer lost", []string{`DELETE FROM campaign_redeemers WHERE rowid = (SELECT MIN(rowid) FROM campaign_redeemers WHERE live > 0)`},
			[]string{"campaign_redeemers = recount"}},
		{"a merchant's use off", []string{`UPDATE campaign_merchant_use SET live = live + 1 WHERE rowid = (SELECT MIN(rowid) FROM campaign_merchant_use)`},
			[]string{"campaign_merchant_use = recount"}},
		{"a pair off", []string{`UPDATE campaign_pairs SET live = live + 2 WHERE rowid = (SELECT MIN(rowid) FROM campaign_pairs)`},
			[]string{"campaign_pairs = recount"}},
		{"a clawback of the wrong amount", []string{`UPDATE clawbacks SET subsidy_fen = subsidy_fen + 1`},
			[]string{"paid statements = their day's redemptions", "clawbacks = reversals of paid days"}},
		{"a paid statement altered", []string{`UPDATE settlements SET subsidy_fen = subsidy_fen + 1`},
			[]string{"paid statements = their day's redemptions", "payment batches = their statements"}},
		{"a payment batch's sum altered", []string{`UPDATE payment_batches SET subsidy_fen = subsidy_fen + 100`},
			[]string{"payment batches = their statements"}},
		{"an audit row altered", []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'someone else' WHERE id = 2`},
			[]string{"audit chain intact"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each case breaks a copy of the fixture, opened as voucherd check opens it.
			path := filepath.Join(t.TempDir(), "copy.db")
			if err := e.Store.Backup(ctx, path); err != nil {
				t.Fatal(err)
			}
			apptest.ExecSQLiteFile(t, path, tc.sql...)
			st, err := db.OpenReadOnly(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			results, failed := checkBooks(t, st)
			if !slices.Equal(failed, tc.want) {
				t.Fatalf("failed:%s\nwant: %s", describe(results, failed), strings.Join(tc.want, ", "))
			}
			for _, name := range failed {
				if r := results[name]; !strings.Contains(r.Figures, "offending") && !strings.HasPrefix(r.Figures, "broken at row 2 ") {
					t.Errorf("%s names no offender: %s", name, r.Figures)
				}
			}
		})
	}
}

// TestOpenReadOnly: the check's store changes nothing, and refuses a
// database that lacks a migration of this build (its recounts would read
// another schema).
// SQLite only: it opens the file read-only.
func TestOpenReadOnly(t *testing.T) { t.Run(string(apptest.SQLite), testOpenReadOnly) }

func testOpenReadOnly(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	st, err := db.OpenReadOnly(ctx, e.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AppendAudit(ctx, app.SystemAudit(e.Clock.Now(), "test.write", "test", app.CityCode, nil)); err == nil ||
		!strings.Contains(err.Error(), "readonly") {
		t.Fatalf("a write through the read-only store: %v", err)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	if err := e.Store.Backup(ctx, old); err != nil {
		t.Fatal(err)
	}
	apptest.ExecSQLiteFile(t, old, `DELETE FROM schema_migrations WHERE name = (SELECT MAX(name) FROM schema_migrations)`)
	if _, err := db.OpenReadOnly(ctx, old); err == nil || !strings.Contains(err.Error(), "run voucherd migrate") {
		t.Fatalf("a database without the last migration: %v", err)
	}
}
