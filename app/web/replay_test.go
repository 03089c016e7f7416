package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestRedemptionRetryGetsItsReceiptWhateverHappenedSince: a POS redeems,
// loses the answer, and retries with the same Idempotency-Key after the
// voucher expired, the campaign was paused or the merchant suspended. The
// retry gets the stored receipt (so the cashier does not charge full price
// while the merchant is paid for the first try); a new key is refused.
func TestRedemptionRetryGetsItsReceiptWhateverHappenedSince(t *testing.T) {
	for _, tc := range []struct {
		name    string
		between func(t *testing.T, e *apptest.Env, c app.Campaign)
		fresh   string // what a new key gets
	}{
		{"voucher expired", func(t *testing.T, e *apptest.Env, c app.Campaign) {
			e.Clock.Advance(14*time.Hour + 100*time.Millisecond) // past midnight in Chongqing
		}, "expired"},
		{"campaign paused", func(t *testing.T, e *apptest.Env, c app.Campaign) {
			if err := e.App.PauseCampaign(context.Background(), e.Maker, c.ID); err != nil {
				t.Fatal(err)
			}
		}, "campaign_paused"},
		{"merchant suspended", func(t *testing.T, e *apptest.Env, c app.Campaign) {
			if err := e.App.ReviewMerchant(context.Background(), e.Approver, e.Merchant.ID, "suspend", "核查中"); err != nil {
				t.Fatal(err)
			}
		}, "merchant_inactive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{})
			c := e.LiveCampaign(t, apptest.CampaignSpec{ValidDays: 1})
			v := claimOne(t, e, c, "13800138000")
			tok := e.CashierSession(t, e.Cashier)
			e.Clock.Advance(90 * time.Minute)
			first := redeem(t, e, tok, v.Token, "150", "pos-1")
			if first.Status != http.StatusCreated {
				t.Fatalf("first try: %d %s", first.Status, first.Raw)
			}
			tc.between(t, e, c)
			e.Clock.Advance(300 * time.Millisecond)
			retry := redeem(t, e, tok, v.Token, "150", "pos-1")
			if retry.Status/100 != 2 || retry.Body["redemption"].(map[string]any)["replayed"] != true {
				t.Fatalf("retry after %s: %d %s, want the stored receipt", tc.name, retry.Status, retry.Raw)
			}
			firstID := first.Body["redemption"].(map[string]any)["id"]
			if got := retry.Body["redemption"].(map[string]any)["id"]; got != firstID {
				t.Errorf("retry answered redemption %v, want %v", got, firstID)
			}
			if other := redeem(t, e, tok, v.Token, "151", "pos-1"); other.Reason() != "idempotency_key_reused" {
				t.Errorf("same key, another bill: %d %s", other.Status, other.Raw)
			}
			if fresh := redeem(t, e, tok, v.Token, "150", "pos-2"); fresh.Status == http.StatusCreated || fresh.Reason() == "" {
				t.Errorf("a new key after %s: %d %s, want a refusal", tc.name, fresh.Status, fresh.Raw)
			}
			if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 1 {
				t.Errorf("%d redemptions, want 1", n)
			}
		})
	}
}

// TestBillAboveTheMaximumIsRefused: one "000" too many at the till.
func TestBillAboveTheMaximumIsRefused(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	tok := e.CashierSession(t, e.Cashier)
	r := redeem(t, e, tok, v.Token, "150000", "k")
	if r.Status != http.StatusUnprocessableEntity || r.Reason() != "bill_too_large" {
		t.Fatalf("a ¥150,000 bill: %d %s, want 422 bill_too_large", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Errorf("%d redemptions written", n)
	}
	if r := redeem(t, e, tok, v.Token, "100000", "k2"); r.Status != http.StatusCreated {
		t.Errorf("a bill at the maximum: %d %s", r.Status, r.Raw)
	}
}

// TestCampaignBudgetArithmeticIsChecked: a tier whose Σ face × quantity
// does not fit in int64 is refused, not wrapped round to a negative
// committed budget that passes; a face above the budget is refused.
func TestCampaignBudgetArithmeticIsChecked(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	base := func(budget, face, qty string) app.CampaignInput {
		return app.CampaignInput{Name: "溢出", District: "500103", Category: "catering", Budget: budget,
			Tiers:       []app.TierInput{{Face: face, Quantity: qty}},
			ClaimStarts: "2026-11-25T12:00", ClaimEnds: "2026-11-30T22:00", ValidDays: "3", PerResidentLimit: "1"}
	}
	for _, tc := range []struct {
		name  string
		in    app.CampaignInput
		field string
		want  string
	}{
		{"Σ beyond int64", base("10000000000", "10000000000", "10000000"), "budget", "budget_below_committed"},
		{"face above a ¥1 budget", base("1", "30", "1"), "budget", "face_above_budget"},
		{"a ¥1 budget with a huge tier", base("1", "1", "10000000"), "budget", "budget_below_committed"},
	} {
		_, err := e.App.CreateCampaign(ctx, e.Maker, tc.in)
		var fe *app.Error
		if !asError(err, &fe) || fe.Fields[tc.field] != tc.want {
			t.Errorf("%s: %v, want %s on %s", tc.name, err, tc.want, tc.field)
		}
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM campaigns`); n != 0 {
		t.Errorf("%d campaigns stored", n)
	}
}

func asError(err error, target **app.Error) bool {
	e, ok := err.(*app.Error)
	*target = e
	return ok
}
