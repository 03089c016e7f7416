package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
)

// TestBrowserMerchantReviewThroughConfirmations reviews merchants as a
// district officer does, in headless Chromium: the list opens with the
// pending applications on top; a pending merchant's file shows its USCC
// checked and its settlement account masked; approval goes through its
// confirmation; a suspension needs its reason (the form refuses an empty
// one) and says what it will do, and the reason lands in the history.
func TestBrowserMerchantReviewThroughConfirmations(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	bg := context.Background()
	apply := func(name, uscc, owner string) app.Merchant {
		t.Helper()
		mc, err := m.App.Apply(bg, app.MerchantApplication{
			Name: name, USCC: uscc, Category: "catering", District: "500103", Address: "渝中区十八梯 1 号",
			ContactName: "刘芳", ContactPhone: "13800138001", SettlementAccount: "6222021234567890123",
			OwnerUsername: owner, OwnerPassword: "a-long-password",
		})
		if err != nil {
			t.Fatal(err)
		}
		return mc
	}
	shop := apply("十八梯抄手", "91350100M000100Y43", "shibati")
	apply("较场口面馆", "91350100M000100Y44", "jcklm") // fails its checksum: flagged in the list

	text := func(sel string) string {
		t.Helper()
		return browserEval[string](t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel))
	}
	step("open the merchant list",
		chromedp.Navigate(base+"/officer/merchants"),
		chromedp.WaitVisible(chromedp.CSS(`#merchant-list`)),
	)
	if got := text(`#merchant-list tbody tr:first-child`); !strings.Contains(got, "十八梯抄手") || !strings.Contains(got, "待审核") {
		t.Errorf("first row %q, want the oldest pending application", got)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('#merchant-list form').length`); n != 0 {
		t.Errorf("the list has %d forms: decisions go through their confirmation", n)
	}
	shot(t, ctx, "merchant-list.png")

	step("open the pending merchant's file",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#merchant-%d a`, shop.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#merchant-licence`)),
	)
	if got := text(`#uscc-check`); got != "校验码正确" {
		t.Errorf("USCC check %q", got)
	}
	if got := text(`#settlement-account`); got != "6222 **** **** 0123" {
		t.Errorf("settlement account %q, want it masked", got)
	}
	shot(t, ctx, "merchant-file.png")

	step("approve: the button leads to what an approval does",
		chromedp.Click(chromedp.CSS(`#review-approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-summary`)),
	)
	if got := text(`#confirm-summary`); !strings.Contains(got, "收银员账号即可核销") {
		t.Errorf("approval summary %q", got)
	}
	if st, _ := m.Store.MerchantByID(bg, shop.ID); st.Status != app.MerchantPending {
		t.Fatalf("approved before the confirmation: %s", st.Status)
	}
	step("confirm the approval",
		chromedp.Click(chromedp.CSS(`#confirm-action`)),
		chromedp.WaitVisible(chromedp.CSS(`#merchant-status.status-approved`)),
	)

	step("suspend: the button leads to what a suspension does",
		chromedp.Click(chromedp.CSS(`#review-suspend`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-summary`)),
	)
	if got := text(`#confirm-summary`); !strings.Contains(got, "暂停后该商户的收银员将不能核销消费券；已核销的款项照常结算") || !strings.Contains(got, "共有 1 个收银员账号") {
		t.Errorf("suspension summary %q", got)
	}
	if got := text(`label`); !strings.Contains(got, "暂停理由") {
		t.Errorf("the reason box is labelled %q", got)
	}
	step("press suspend without a reason", chromedp.Click(chromedp.CSS(`#confirm-action`)))
	if valid := browserEval[bool](t, ctx, `document.querySelector('textarea[name=reason]').checkValidity()`); valid {
		t.Error("the empty reason box counts as valid")
	}
	const why = "多名居民投诉虚假交易，暂停核销待查"
	step("suspend with a reason",
		chromedp.SendKeys(chromedp.CSS(`textarea[name=reason]`), why),
	)
	shot(t, ctx, "merchant-confirm-suspend.png")
	step("confirm the suspension",
		chromedp.Click(chromedp.CSS(`#confirm-action`)),
		chromedp.WaitVisible(chromedp.CSS(`#merchant-status.status-suspended`)),
	)
	if st, _ := m.Store.MerchantByID(bg, shop.ID); st.Status != app.MerchantSuspended || st.ReviewNote != why {
		t.Fatalf("after the confirmed suspension: %s %q", st.Status, st.ReviewNote)
	}
	if got := text(`#merchant-history`); !strings.Contains(got, why) || !strings.Contains(got, "yuzhong.approver") {
		t.Errorf("history %q, want the reason and who suspended", got)
	}
	shot(t, ctx, "merchant-suspended.png")
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
