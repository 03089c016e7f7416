package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"cqvoucher/app/apptest"
)

func TestReverseThenRedeemAgain(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	cashier := e.CashierSession(t, e.Cashier)
	first := redeem(t, e, cashier, v.Token, "150", "k1")
	if first.Status != 201 {
		t.Fatalf("redeem: %d %s", first.Status, first.Raw)
	}
	redID := int64(first.Body["redemption"].(map[string]any)["id"].(float64))
	reverse := func(tok string) apptest.Response {
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/redemptions/%d/reverse", redID), tok, nil)
	}
	// Another merchant cannot reverse it: for them it does not exist.
	other := e.CashierSession(t, e.NewCashier(t, e.NewMerchant(t, "较场口小面", "500103", "catering"), "other"))
	if r := reverse(other); r.Status != 404 {
		t.Fatalf("another merchant reverses: %d %s", r.Status, r.Raw)
	}
	if r := reverse(cashier); r.Status != 200 || r.Body["reversed_at"] == nil {
		t.Fatalf("reverse: %d %s", r.Status, r.Raw)
	}
	if r := reverse(cashier); r.Status != 409 || r.Reason() != "already_reversed" {
		t.Fatalf("reverse twice: %d %s", r.Status, r.Raw)
	}
	// Counters and budget give back what the redemption added; the voucher is usable again, same expiry.
	if n := e.Count(t, `SELECT subsidy_fen + consumption_fen + redeemed_count FROM campaigns WHERE id = ?`, c.ID); n != 0 {
		t.Fatalf("rollups after reversal = %d, want 0", n)
	}
	if n := e.Count(t, `SELECT reversed_count FROM campaigns WHERE id = ?`, c.ID); n != 1 {
		t.Fatalf("reversed_count = %d", n)
	}
	back, err := e.Store.VoucherByCode(t.Context(), v.Code)
	if err != nil || back.Status != "claimed" || back.RedeemedAt != nil || !back.ExpiresAt.Equal(v.ExpiresAt) {
		t.Fatalf("the voucher did not come back claimed with its original expiry: %+v %v", back, err)
	}
	// A retry of the reversed redemption's request is told so, not replayed.
	if r := redeem(t, e, cashier, v.Token, "150", "k1"); r.Status != 409 || r.Reason() != "redemption_reversed" {
		t.Fatalf("retry of a reversed redemption: %d %s", r.Status, r.Raw)
	}
	// The voucher can be spent again, once.
	if r := redeem(t, e, other, v.Code, "200", "k2"); r.Status != 201 {
		t.Fatalf("redeem after reversal: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, cashier, v.Code, "200", "k3"); r.Status != 409 || r.Reason() != "already_redeemed" {
		t.Fatalf("second redemption after reversal: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions WHERE voucher_id = ? AND reversed_at IS NULL`, back.ID); n != 1 {
		t.Fatalf("live redemptions = %d", n)
	}
	if n := e.Count(t, `SELECT subsidy_fen FROM campaigns WHERE id = ?`, c.ID); n != 3000 {
		t.Fatalf("subsidy = %d", n)
	}
}

// A refund may reverse a redemption of the last seven days (Asia/Shanghai):
// the next day's reversal stands, one of eight days before is refused and
// writes nothing.
func TestReversalWithinTheRefundWindow(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 2, ValidDays: 10})
	cashier := e.CashierSession(t, e.Cashier)
	var ids []int64
	for i, phone := range []string{"13800138000", "13800138001"} {
		r := redeem(t, e, cashier, claimOne(t, e, c, phone).Code, "150", fmt.Sprintf("k%d", i))
		ids = append(ids, int64(r.Body["redemption"].(map[string]any)["id"].(float64)))
	}
	e.Clock.Advance(14 * time.Hour) // past midnight in Shanghai
	if res := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/redemptions/%d/reverse", ids[0]), cashier, nil); res.Status != 200 {
		t.Fatalf("reversal the next day: %d %s", res.Status, res.Raw)
	}
	e.Clock.Advance(6 * 24 * time.Hour) // 2 Dec: 25 Nov is eight days back
	cashier = e.CashierSession(t, e.Cashier)
	res := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/redemptions/%d/reverse", ids[1]), cashier, nil)
	if res.Status != 409 || res.Reason() != "reversal_window" {
		t.Fatalf("reversal eight days on: %d %s", res.Status, res.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions WHERE reversed_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d reversals, want the first only", n)
	}
}

func TestTwoMerchantsScanTheSameQR(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	a := e.CashierSession(t, e.Cashier)
	b := e.CashierSession(t, e.NewCashier(t, e.NewMerchant(t, "较场口小面", "500103", "catering"), "b"))
	var got tally
	race(2, func(i int) {
		tok := []string{a, b}[i]
		got.add(redeem(t, e, tok, "http://localhost/v/"+v.Token, "150", "same-key"))
	})
	if got.count["201 "] != 1 || got.count["409 already_redeemed"] != 1 {
		t.Fatalf("answers = %v", got.count)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 1 {
		t.Fatalf("redemptions = %d", n)
	}
}
