package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// A reversal is asked for first: the list's reverse button leads to a
// confirm step with the amounts, which writes nothing; the day's total
// counts the redemptions that stand.
func TestCounterReversalConfirmAndDayTotal(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	tok := e.CashierSession(t, e.Cashier)
	r := redeem(t, e, tok, v.Token, "150", "k1")
	if r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	redID := int64(r.Body["redemption"].(map[string]any)["id"].(float64))
	discount := app.Fen(r.Body["discount_fen"].(float64))
	counter := authzNewBrowser(t, e)
	counter.setCookie("cqv_cashier", tok)

	today := fmt.Sprintf("今日核销 1 笔 · 补贴 %s · 消费 ¥150.00", discount.Yuan())
	for _, path := range []string{"/merchant", "/merchant/redemptions"} {
		if p := counter.do(t, http.MethodGet, path, nil); p.status != 200 || !strings.Contains(p.body, today) {
			t.Errorf("GET %s: %d, want %q shown", path, p.status, today)
		}
	}
	p := counter.do(t, http.MethodGet, fmt.Sprintf("/merchant/redemptions?confirm=%d", redID), nil)
	if p.status != 200 || !strings.Contains(p.body, `id="reverse-confirm"`) || !strings.Contains(p.body, "−"+discount.Yuan()) ||
		!strings.Contains(p.body, fmt.Sprintf(`action="/merchant/redemptions/%d/reverse"`, redID)) {
		t.Fatalf("confirm step: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions WHERE id = ? AND reversed_at IS NULL`, redID); n != 1 {
		t.Fatalf("the confirm step reversed the redemption")
	}
	// Another merchant's cashier gets no confirm step for it.
	other := authzNewBrowser(t, e)
	other.setCookie("cqv_cashier", e.CashierSession(t, e.NewCashier(t, e.NewMerchant(t, "较场口小面", "500103", "catering"), "other")))
	if p := other.do(t, http.MethodGet, fmt.Sprintf("/merchant/redemptions?confirm=%d", redID), nil); strings.Contains(p.body, `id="reverse-confirm"`) {
		t.Errorf("another merchant sees a confirm step for this redemption")
	}
	if p := counter.do(t, http.MethodPost, fmt.Sprintf("/merchant/redemptions/%d/reverse", redID), url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("reverse: %d", p.status)
	}
	if p := counter.do(t, http.MethodGet, "/merchant", nil); !strings.Contains(p.body, "今日核销 0 笔 · 补贴 ¥0.00 · 消费 ¥0.00") {
		t.Errorf("after the reversal the day still counts it")
	}
	// A reversed line has nothing left to confirm.
	if p := counter.do(t, http.MethodGet, fmt.Sprintf("/merchant/redemptions?confirm=%d", redID), nil); strings.Contains(p.body, `id="reverse-confirm"`) {
		t.Errorf("a reversed redemption offers a confirm step")
	}
}

// A shop under review, rejected or suspended sees so, with the reason,
// instead of a scan form; its check is refused and writes nothing.
func TestCounterPageOfShopNotApproved(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	shop, err := e.App.Apply(t.Context(), app.MerchantApplication{
		Name: "十八梯抄手", USCC: "91350100M000100Y43", Category: "catering", District: "500103",
		Address: "渝中区十八梯 1 号", ContactName: "刘芳", ContactPhone: "13800138001",
		SettlementAccount: "6222021234567890123", OwnerUsername: "shibati", OwnerPassword: "a-long-password",
	})
	if err != nil {
		t.Fatal(err)
	}
	owner := e.Count(t, `SELECT id FROM cashiers WHERE username = 'shibati'`)
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_cashier", e.Session(t, app.KindCashier, owner, time.Hour))
	closed := func(when string, want ...string) {
		t.Helper()
		p := b.do(t, http.MethodGet, "/merchant", nil)
		if p.status != 200 || !strings.Contains(p.body, `id="merchant-closed"`) || strings.Contains(p.body, `id="scan-form"`) {
			t.Fatalf("%s: %d, want the shop's status instead of a scan form\n%s", when, p.status, p.body)
		}
		for _, w := range want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s: page lacks %q", when, w)
			}
		}
	}
	closed("pending", "本店状态：待审核", "审核通过后才能核销")
	if p := b.do(t, http.MethodPost, "/merchant/check", url.Values{"voucher": {v.Code}, "bill": {"150"}}); p.status != 403 ||
		!strings.Contains(p.body, `id="merchant-closed"`) || strings.Contains(p.body, `id="quote"`) {
		t.Errorf("pending shop's check: %d", p.status)
	}
	if err := e.App.ReviewMerchant(t.Context(), e.Approver, shop.ID, "reject", "营业执照照片不清晰"); err != nil {
		t.Fatal(err)
	}
	closed("rejected", "本店状态：未通过", "审核意见：营业执照照片不清晰")

	// An approved shop that is suspended later sees the same, with its reason.
	if err := e.App.ReviewMerchant(t.Context(), e.Approver, e.Merchant.ID, "suspend", "核查中"); err != nil {
		t.Fatal(err)
	}
	b.setCookie("cqv_cashier", e.CashierSession(t, e.Cashier))
	closed("suspended", "本店状态：已暂停", "审核意见：核查中")
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions`); n != 0 {
		t.Errorf("%d redemptions written", n)
	}
}
