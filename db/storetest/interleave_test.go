package storetest_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/report"
	"cqvoucher/db"
)

// The money steps run one at a time on the single writer, each at the time
// the writer reads after BEGIN IMMEDIATE. A request decided in Go at one
// time may reach the writer after other steps and at another time, and the
// server's clock may step back (an NTP correction at midnight). These tests
// run the store's steps in every order the writer can run them, with the
// clock set for each step as it would read, and check what the books must
// say afterwards.

// cst is a wall time in Chongqing on 25 or 26 November 2026.
func cst(day, h, m, s, ms int) time.Time {
	return time.Date(2026, 11, day, h, m, s, ms*int(time.Millisecond), app.Shanghai)
}

// step is one writer transaction: the clock the writer reads, and the call.
type step struct {
	name string
	at   time.Time
	do   func(w *world) error
}

// world is one scenario's product: a live campaign whose vouchers are valid
// for the day of the claim, a merchant and its cashier, one claimed voucher.
type world struct {
	t   *testing.T
	e   *apptest.Env
	ctx context.Context
	c   app.Campaign
	v   app.Voucher
	got map[string]error // each step's answer
}

func newWorld(t *testing.T) *world { return newWorldValid(t, 1) }

// newWorldValid is newWorld with vouchers valid for days days.
func newWorldValid(t *testing.T, days int) *world {
	t.Helper()
	e := apptest.New(t, apptest.Options{})
	w := &world{t: t, e: e, ctx: context.Background(), got: map[string]error{}}
	w.c = e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: days, Budget: "3000"})
	r, _ := e.ResidentSession(t, "13800138000")
	v, err := e.App.Claim(w.ctx, r, w.c.ID, w.c.Tiers[0].ID, "claim")
	if err != nil {
		t.Fatal(err)
	}
	w.v = v
	return w
}

// redeem is the store's redemption of the world's voucher for a ¥150 bill,
// as the domain prepared it earlier (key, discount).
func (w *world) redeem(key string) error {
	_, err := w.e.Store.Redeem(w.ctx, app.RedeemInsert{VoucherID: w.v.ID, MerchantID: w.e.Merchant.ID, CashierID: w.e.Cashier.ID,
		BillFen: 15000, DiscountFen: 3000, Key: key})
	return err
}

func (w *world) sweep() error {
	_, err := w.e.Store.SweepExpired(w.ctx, 100)
	return err
}

func (w *world) markPaid(day string) error {
	_, err := w.e.Store.MarkPaid(w.ctx, app.StatementKey{MerchantID: w.e.Merchant.ID, Day: day, FundingDistrict: "500103"}, w.e.Approver.ID,
		app.AuditEntry{ActorID: w.e.Approver.ID, Actor: w.e.Approver.Username, Action: "settlement.pay", Entity: "merchant", EntityID: w.e.Merchant.ID, District: "500103", At: w.e.Clock.Now()})
	return err
}

func (w *world) reverseLatest() error {
	var id int64
	if err := w.e.Store.QueryRow(w.ctx, `SELECT id FROM redemptions WHERE voucher_id = ? ORDER BY id DESC LIMIT 1`, w.v.ID).Scan(&id); err != nil {
		return err
	}
	_, err := w.e.Store.Reverse(w.ctx, app.ReverseInsert{RedemptionID: id, MerchantID: w.e.Merchant.ID, CashierID: w.e.Cashier.ID})
	return err
}

func (w *world) count(q string, args ...any) int64 { w.t.Helper(); return w.e.Count(w.t, q, args...) }

// run plays the steps in order, each at its time.
func (w *world) run(steps []step) {
	for _, s := range steps {
		w.e.Clock.Set(s.at)
		w.got[s.name] = s.do(w)
	}
}

// orders lists every order of steps (they are few).
func orders(steps []step) [][]step {
	if len(steps) <= 1 {
		return [][]step{steps}
	}
	var out [][]step
	for i := range steps {
		rest := append(append([]step{}, steps[:i]...), steps[i+1:]...)
		for _, o := range orders(rest) {
			out = append(out, append([]step{steps[i]}, o...))
		}
	}
	return out
}

func names(steps []step) string {
	var n []string
	for _, s := range steps {
		n = append(n, s.name)
	}
	return strings.Join(n, " → ")
}

// books runs the product's own reconciliation (voucherd check) now, in the
// middle of a scenario: whatever the order, every invariant holds — no
// voucher both lapsed and redeemed, at most one live redemption, counters
// and rollups equal to their rows, committed budget covering what is
// spent, every paid statement equal to its day's live redemptions.
func (w *world) books() {
	w.t.Helper()
	results, err := w.e.Store.Check(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range results {
		if !r.Pass {
			w.t.Errorf("books: FAIL %s: %s", r.Name, r.Figures)
		}
	}
}

// TestExpirySweepAndRedemptionInEveryOrder: a voucher valid through 25 Nov.
// A cashier redeems it just before midnight; the expiry sweep runs just
// after; then NTP steps the clock back 1.5 s. Whatever order the writer runs
// them in, the voucher is redeemed or lapsed, never both, and a lapsed
// voucher cannot be redeemed on the stepped-back clock.
func TestExpirySweepAndRedemptionInEveryOrder(t *testing.T) {
	apptest.EachBackend(t, testExpirySweepAndRedemptionInEveryOrder)
}

func testExpirySweepAndRedemptionInEveryOrder(t *testing.T) {
	steps := []step{
		{"redeem at 23:59:59.9", cst(25, 23, 59, 59, 900), func(w *world) error { return w.redeem("k1") }},
		{"sweep at 00:00:00.4", cst(26, 0, 0, 0, 400), func(w *world) error { return w.sweep() }},
	}
	for _, order := range orders(steps) {
		t.Run(names(order), func(t *testing.T) {
			w := newWorld(t)
			w.run(order)
			// The clock steps back; the cashier's retry with a new key.
			w.run([]step{{"retry at 23:59:58.9", cst(25, 23, 59, 58, 900), func(w *world) error { return w.redeem("k2") }}})
			redeemedFirst := order[0].name == steps[0].name
			if redeemedFirst {
				if err := w.got[steps[0].name]; err != nil {
					t.Fatalf("redemption at 23:59:59.9 of a voucher valid through 25 Nov: %v", err)
				}
				if n := w.count(`SELECT expired FROM tiers WHERE campaign_id = ?`, w.c.ID); n != 0 {
					t.Errorf("the sweep counted a redeemed voucher as expired (%d)", n)
				}
			} else {
				if r := app.ErrorReason(w.got[steps[0].name]); r != "expired" {
					t.Errorf("redemption after the sweep: %q, want expired", r)
				}
				if r := app.ErrorReason(w.got["retry at 23:59:58.9"]); r != "expired" {
					t.Errorf("redemption of a lapsed voucher on a clock stepped back: %q, want expired", r)
				}
				if n := w.count(`SELECT expired FROM tiers WHERE campaign_id = ?`, w.c.ID); n != 1 {
					t.Errorf("expired count %d, want 1", n)
				}
			}
			w.books()
			// A later voucher of the campaign is not refused as budget_exhausted:
			// the budget (3000 fen) has room for exactly what is live.
			if !redeemedFirst {
				r2, _ := w.e.ResidentSession(t, "13900139000")
				w.e.Clock.Set(cst(26, 10, 0, 0, 300))
				v2, err := w.e.App.Claim(w.ctx, r2, w.c.ID, w.c.Tiers[0].ID, "second")
				if err != nil {
					t.Fatalf("claim after the expiry freed the budget: %v", err)
				}
				w.v = v2
				if err := w.redeem("k3"); err != nil {
					t.Errorf("redeeming a fresh voucher: %v", err)
				}
				w.books()
			}
		})
	}
}

// TestPaidDayClosesRedemptionsAndClawsBackReversals: a redemption of 25
// Nov and a reversal requested at 23:59:59.5; the officer marks the day
// paid just after midnight; then the clock steps back. A reversal that
// reaches the writer after the payment still refunds the customer, and its
// subsidy, already paid, is clawed back (else it is paid twice); a
// redemption that reaches it after the payment belongs to 26 Nov (never
// left out), and on a stepped-back clock no redemption of the paid day
// commits.
func TestPaidDayClosesRedemptionsAndClawsBackReversals(t *testing.T) {
	apptest.EachBackend(t, testPaidDayClosesRedemptionsAndClawsBackReversals)
}

func testPaidDayClosesRedemptionsAndClawsBackReversals(t *testing.T) {
	steps := []step{
		{"reverse at 23:59:59.5", cst(25, 23, 59, 59, 500), func(w *world) error { return w.reverseLatest() }},
		{"pay 25 Nov at 00:00:00.3", cst(26, 0, 0, 0, 300), func(w *world) error { return w.markPaid("2026-11-25") }},
	}
	for _, order := range orders(steps) {
		t.Run(names(order), func(t *testing.T) {
			w := newWorld(t)
			w.run([]step{{"redeem", cst(25, 20, 0, 0, 250), func(w *world) error { return w.redeem("k1") }}})
			if err := w.got["redeem"]; err != nil {
				t.Fatal(err)
			}
			w.run(order)
			if err := w.got[steps[1].name]; err != nil {
				t.Fatalf("marking 25 Nov paid: %v", err)
			}
			if err := w.got[steps[0].name]; err != nil {
				t.Fatalf("the reversal: %v", err)
			}
			reversedFirst := order[0].name == steps[0].name
			wantClawback := int64(1)
			if reversedFirst {
				wantClawback = 0 // the payment left the reversed redemption out
			}
			if n := w.count(`SELECT COUNT(*) FROM clawbacks WHERE subsidy_fen = 3000`); n != wantClawback {
				t.Errorf("%d clawbacks of ¥30, want %d", n, wantClawback)
			}
			// The clock steps back into the paid day.
			w.run([]step{
				{"reverse again on the stepped-back clock", cst(25, 23, 59, 59, 800), func(w *world) error { return w.reverseLatest() }},
				{"redeem on the stepped-back clock", cst(25, 23, 59, 59, 850), func(w *world) error { return w.redeem("k2") }},
			})
			if r := app.ErrorReason(w.got["reverse again on the stepped-back clock"]); r != "already_reversed" {
				t.Errorf("reversing the reversed redemption: %q, want already_reversed", r)
			}
			if r := app.ErrorReason(w.got["redeem on the stepped-back clock"]); r != "day_closed" {
				t.Errorf("redemption into a paid day on a stepped-back clock: %q, want day_closed", r)
			}
			w.books()
		})
	}
}

// TestRedemptionQueuedAtMidnightIsNeverLeftOut: pressed at 23:59:59.9 on
// 25 Nov, the redemption reaches the writer before or after the officer
// marks 25 Nov paid. Either it is in 25 Nov's paid statement, or it is
// dated 26 Nov and waits for that day's statement.
func TestRedemptionQueuedAtMidnightIsNeverLeftOut(t *testing.T) {
	apptest.EachBackend(t, testRedemptionQueuedAtMidnightIsNeverLeftOut)
}

func testRedemptionQueuedAtMidnightIsNeverLeftOut(t *testing.T) {
	steps := []step{
		{"redeem at 23:59:59.9", cst(25, 23, 59, 59, 900), func(w *world) error { return w.redeem("k1") }},
		{"redeem reaches the writer at 00:00:00.5", cst(26, 0, 0, 0, 500), func(w *world) error { return w.redeem("k1") }},
		{"pay 25 Nov at 00:00:00.2", cst(26, 0, 0, 0, 200), func(w *world) error { return w.markPaid("2026-11-25") }},
	}
	for _, order := range [][]step{{steps[0], steps[2]}, {steps[2], steps[1]}} {
		t.Run(names(order), func(t *testing.T) {
			w := newWorldValid(t, 2)
			// Another redemption makes 25 Nov's statement non-empty.
			other := newVoucher(t, w, "13700137000")
			w.e.Clock.Set(cst(25, 12, 0, 0, 100))
			if _, err := w.e.Store.Redeem(w.ctx, app.RedeemInsert{VoucherID: other.ID, MerchantID: w.e.Merchant.ID, CashierID: w.e.Cashier.ID,
				BillFen: 15000, DiscountFen: 3000, Key: "other"}); err != nil {
				t.Fatal(err)
			}
			w.run(order)
			var day string
			if err := w.e.Store.QueryRow(w.ctx, `SELECT local_day(created_at) FROM redemptions WHERE idempotency_key = 'k1'`).Scan(&day); err != nil {
				t.Fatalf("the queued redemption was not stored: %v", err)
			}
			paid := w.count(`SELECT redemptions FROM settlements WHERE day = '2026-11-25'`)
			switch day {
			case "2026-11-25":
				if paid != 2 {
					t.Errorf("redemption of 25 Nov, yet 25 Nov's paid statement counts %d, want 2", paid)
				}
			case "2026-11-26":
				if paid != 1 {
					t.Errorf("redemption of 26 Nov counted in 25 Nov's statement (%d)", paid)
				}
			default:
				t.Errorf("redemption dated %s", day)
			}
			w.books()
		})
	}
}

// TestValidThroughTheLastTenthOfASecond: "valid until 23:59:59" means a
// voucher redeems at 23:59:59.9 and not at midnight.
func TestValidThroughTheLastTenthOfASecond(t *testing.T) {
	apptest.EachBackend(t, testValidThroughTheLastTenthOfASecond)
}

func testValidThroughTheLastTenthOfASecond(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{cst(25, 23, 59, 59, 900), ""},
		{cst(26, 0, 0, 0, 0), "expired"},
	} {
		w := newWorld(t)
		w.e.Clock.Set(tc.at)
		if r := app.ErrorReason(w.redeem("k")); r != tc.want {
			t.Errorf("redeeming at %s: %q, want %q", tc.at.Format("15:04:05.000"), r, tc.want)
		}
		w.books()
	}
}

// TestStoreTrustsNoCallerFigures: the store takes the voucher's campaign
// and tier from its own row and the discount from its own tier.
func TestStoreTrustsNoCallerFigures(t *testing.T) {
	apptest.EachBackend(t, testStoreTrustsNoCallerFigures)
}

func testStoreTrustsNoCallerFigures(t *testing.T) {
	w := newWorld(t)
	w.e.Clock.Set(cst(25, 12, 0, 0, 0))
	for _, tc := range []struct {
		name           string
		bill, discount app.Fen
		want           string
	}{
		{"a discount above the tier's face", 15000, 9000, "not_redeemable"},
		{"a discount below the tier's face", 15000, 100, "not_redeemable"},
		{"a bill below the threshold", 5000, 3000, "below_threshold"},
		{"a bill above the campaign's maximum", 100000001, 3000, "bill_too_large"},
	} {
		_, err := w.e.Store.Redeem(w.ctx, app.RedeemInsert{VoucherID: w.v.ID, MerchantID: w.e.Merchant.ID, CashierID: w.e.Cashier.ID,
			BillFen: tc.bill, DiscountFen: tc.discount, Key: tc.name})
		if r := app.ErrorReason(err); r != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, r, tc.want)
		}
	}
	if n := w.count(`SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Errorf("%d redemptions written", n)
	}
	w.books()
}

// TestClaimKeyReusedForAnotherTier: a request key is the resident's for
// one claim; reused for another campaign or tier it is refused, not
// answered with the first campaign's voucher.
func TestClaimKeyReusedForAnotherTier(t *testing.T) {
	apptest.EachBackend(t, testClaimKeyReusedForAnotherTier)
}

func testClaimKeyReusedForAnotherTier(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "5"}, {Face: "10", Threshold: "50", Quantity: "5"}}, Limit: 2})
	other := e.LiveCampaign(t, apptest.CampaignSpec{Name: "另一个活动"})
	r, _ := e.ResidentSession(t, "13800138000")
	first, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "same-key")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.App.Claim(ctx, r, c.ID, c.Tiers[0].ID, "same-key"); err != nil || again.ID != first.ID {
		t.Fatalf("a double tap: %v, voucher %d, want %d", err, again.ID, first.ID)
	}
	for name, ids := range map[string][2]int64{"another tier": {c.ID, c.Tiers[1].ID}, "another campaign": {other.ID, other.Tiers[0].ID}} {
		if _, err := e.App.Claim(ctx, r, ids[0], ids[1], "same-key"); app.ErrorReason(err) != "request_key_reused" {
			t.Errorf("%s with the same key: %v, want request_key_reused", name, err)
		}
		// The writer says the same when the fast path is not asked.
		_, err := e.Store.Claim(ctx, app.ClaimInsert{CampaignID: ids[0], TierID: ids[1], ResidentID: r.ID, RequestKey: "same-key",
			Code: "X", Token: "t", ExpiresAt: e.Clock.Now().Add(time.Hour)})
		if app.ErrorReason(err) != "request_key_reused" {
			t.Errorf("%s with the same key, in the store: %v", name, err)
		}
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE resident_id = ?`, r.ID); n != 1 {
		t.Errorf("%d vouchers, want 1", n)
	}
}

func newVoucher(t *testing.T, w *world, phone string) app.Voucher {
	t.Helper()
	r, _ := w.e.ResidentSession(t, phone)
	v, err := w.e.App.Claim(w.ctx, r, w.c.ID, w.c.Tiers[0].ID, fmt.Sprint("claim-", phone))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestClaimToRedemptionTimeIsComputedOnce: on sub-second timestamps the
// rollups and the raw recount give the same seconds from claim to
// redemption (claimed at 10:00:00.250, redeemed 12.9 s later: 12 s, where
// flooring each time first would say 13), through a reversal too.
func TestClaimToRedemptionTimeIsComputedOnce(t *testing.T) {
	apptest.EachBackend(t, testClaimToRedemptionTimeIsComputedOnce)
}

func testClaimToRedemptionTimeIsComputedOnce(t *testing.T) {
	w := newWorld(t)
	w.e.Clock.Set(w.v.ClaimedAt.Add(12*time.Second + 900*time.Millisecond))
	if err := w.redeem("k1"); err != nil {
		t.Fatal(err)
	}
	other := newVoucher(t, w, "13700137000")
	w.e.Clock.Set(other.ClaimedAt.Add(4*time.Second + 800*time.Millisecond))
	if _, err := w.e.Store.Redeem(w.ctx, app.RedeemInsert{VoucherID: other.ID, MerchantID: w.e.Merchant.ID, CashierID: w.e.Cashier.ID,
		BillFen: 15000, DiscountFen: 3000, Key: "k2"}); err != nil {
		t.Fatal(err)
	}
	w.e.Clock.Advance(700 * time.Millisecond)
	w.v = other
	if err := w.reverseLatest(); err != nil {
		t.Fatal(err)
	}
	rolled, err := w.e.Store.RollupParts(w.ctx, w.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.e.Store.RawParts(w.ctx, w.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(cells []report.Cell) (n int64) {
		for _, c := range cells {
			n += c.ClaimToRedeemS
		}
		return n
	}
	for name, pair := range map[string][2][]report.Cell{"hours": {rolled.Hours, raw.Hours}, "tiers": {rolled.Tiers, raw.Tiers}, "merchants": {rolled.Merchants, raw.Merchants}} {
		if r, x := sum(pair[0]), sum(pair[1]); r != 12 || x != 12 {
			t.Errorf("%s: claim-to-redemption seconds %d in the rollups, %d recounted; want 12 and 12", name, r, x)
		}
	}
	w.books()
}

// TestClaimThatWaitedPastMidnightIsNotIssuedDead: signed at 23:59:59.95
// for "valid today", the claim reaches the writer at 00:00:00.05; the
// writer refuses to store a voucher that is already over (the domain signs
// it again for the new day) and takes no stock for it.
func TestClaimThatWaitedPastMidnightIsNotIssuedDead(t *testing.T) {
	apptest.EachBackend(t, testClaimThatWaitedPastMidnightIsNotIssuedDead)
}

func testClaimThatWaitedPastMidnightIsNotIssuedDead(t *testing.T) {
	w := newWorld(t)
	r, _ := w.e.ResidentSession(t, "13600136000")
	signedFor := app.EndOfDayAfter(cst(25, 23, 59, 59, 950), 0)
	w.e.Clock.Set(cst(26, 0, 0, 0, 50))
	left := w.count(`SELECT remaining FROM tiers WHERE campaign_id = ?`, w.c.ID)
	_, err := w.e.Store.Claim(w.ctx, app.ClaimInsert{CampaignID: w.c.ID, TierID: w.c.Tiers[0].ID, ResidentID: r.ID,
		Code: "DEAD", Token: "t", ExpiresAt: signedFor})
	if app.ErrorReason(err) != "validity_passed" {
		t.Fatalf("a voucher already over when written: %v, want validity_passed", err)
	}
	if n := w.count(`SELECT remaining FROM tiers WHERE campaign_id = ?`, w.c.ID); n != left {
		t.Errorf("stock %d after the refusal, want %d", n, left)
	}
	// Through the domain the same press gets a voucher of the new day.
	v, err := w.e.App.Claim(w.ctx, r, w.c.ID, w.c.Tiers[0].ID, "after-midnight")
	if err != nil || !v.ExpiresAt.After(w.e.Clock.Now()) {
		t.Fatalf("claim after midnight: %v, expires %v", err, v.ExpiresAt)
	}
	w.books()
}

// TestNoVoucherIsIssuedDead: "valid for 1 day", claimed at 23:59:59.9, is
// given the next day too; claimed at 22:30 it ends at midnight as usual.
func TestNoVoucherIsIssuedDead(t *testing.T) { apptest.EachBackend(t, testNoVoucherIsIssuedDead) }

func testNoVoucherIsIssuedDead(t *testing.T) {
	for _, tc := range []struct {
		claim time.Time
		want  time.Time
	}{
		{cst(25, 22, 30, 0, 0), cst(26, 0, 0, 0, 0)},
		{cst(25, 23, 0, 0, 1), cst(27, 0, 0, 0, 0)},
		{cst(25, 23, 59, 59, 900), cst(27, 0, 0, 0, 0)},
	} {
		w := newWorld(t)
		r, _ := w.e.ResidentSession(t, "13600136000")
		w.e.Clock.Set(tc.claim)
		v, err := w.e.App.Claim(w.ctx, r, w.c.ID, w.c.Tiers[0].ID, "late")
		if err != nil {
			t.Fatalf("claim at %s: %v", tc.claim.Format("15:04:05.000"), err)
		}
		if !v.ExpiresAt.Equal(tc.want) || v.ExpiresAt.Sub(tc.claim) < app.MinUsable {
			t.Errorf("claimed at %s: expires %s, want %s", tc.claim.Format("15:04:05.000"), v.ExpiresAt.In(app.Shanghai), tc.want)
		}
		w.books()
	}
}

// TestWaitsOfOlderRedemptionsAreBackfilledInGo: redemptions written before
// the time from claim to redemption was stored get it at the next start,
// from the function that computed their rollups, so the books balance
// right after an upgrade (9.9996 s: 9, where rounding in SQL would say 10).
// SQLite only: the upgrade is of a file written before PostgreSQL existed.
func TestWaitsOfOlderRedemptionsAreBackfilledInGo(t *testing.T) {
	t.Run(string(apptest.SQLite), testWaitsOfOlderRedemptionsAreBackfilledInGo)
}

func testWaitsOfOlderRedemptionsAreBackfilledInGo(t *testing.T) {
	w := newWorld(t)
	w.e.Clock.Set(w.v.ClaimedAt.Add(10*time.Second - 400*time.Microsecond))
	if err := w.redeem("k1"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// As an older version left it: rollups kept, the column not yet filled.
	raw, err := sql.Open("sqlite3", "file:"+w.e.Path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE redemptions SET wait_s = NULL`); err != nil {
		t.Fatal(err)
	}
	reopened, err := db.Open(ctx, w.e.Path, db.Options{Now: w.e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if n := w.count(`SELECT wait_s FROM redemptions`); n != 9 {
		t.Errorf("backfilled wait %d s, want 9", n)
	}
	w.books()
}
