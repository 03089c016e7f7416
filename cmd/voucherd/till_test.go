package main

// The cashier's till on a phone (390×844) in a real headless Chromium: a
// scanner gun types its text and Enter into whatever field has the focus,
// so after each result the code field must be empty and focused, or the
// next scan is glued onto the last one. Every redemption and reversal is
// confirmed with its amounts; the page shows the day's total; a shop that
// is not approved sees its status and the review note instead of a scan
// form. Skips like browser_test.go without Chromium.

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

func TestTillScannerGunConfirmationsAndShopStatus(t *testing.T) {
	browserRequireChromium(t)
	p := browserProductTab(t, "till", 15*time.Second)
	m, base, ctx, step, console := p.m, p.base, p.tab, p.step, p.console
	v, qrText := cameraClaimVoucher(t, m, p.logs)
	// land runs steps that navigate and checks the status of the page
	// they land on.
	land := func(name string, status int64, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(sctx, steps...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp == nil || resp.Status != status {
			t.Fatalf("%s: want a %d page, got %+v", name, status, resp)
		}
	}
	eval := func(expr string) string { t.Helper(); return browserEval[string](t, ctx, expr) }
	text := func(id string) string {
		t.Helper()
		return strings.Join(strings.Fields(eval(`(document.getElementById('`+id+`') || {innerText: ''}).innerText`)), " ")
	}
	// emptyAndFocused: where the gun's next text goes.
	emptyAndFocused := func(after string) {
		t.Helper()
		if got := eval(`document.activeElement ? document.activeElement.id : ''`); got != "voucher" {
			t.Errorf("after %s: focus on %q, want the voucher field", after, got)
		}
		if got := eval(`document.getElementById('voucher').value`); got != "" {
			t.Errorf("after %s: voucher field holds %q, want it empty", after, got)
		}
	}
	signIn := func(user, password string) {
		t.Helper()
		step("open /merchant/login", chromedp.Navigate(base+"/merchant/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password))
		land("sign in "+user, 200, chromedp.Click(chromedp.CSS(`form[action="/merchant/login"] button[type="submit"]`)))
	}

	step("phone viewport", chromedp.EmulateViewport(390, 844))
	signIn("cashier.jfb", "demo1234")
	if got := text("today"); !strings.Contains(got, "今日核销 0 笔") {
		t.Errorf("scan page before any redemption shows %q, want 今日核销 0 笔", got)
	}

	// 1. The gun: a bad code and Enter into the focused field is refused;
	// the field is empty and focused again.
	emptyAndFocused("opening the scan page")
	land("gun: a bad code", 422, chromedp.KeyEvent("NOT-A-VOUCHER-123"+kb.Enter))
	if got := text("rejection"); got == "" {
		t.Fatalf("a bad code was not refused on the page")
	}
	emptyAndFocused("a refusal")

	// 2. The gun's next scan, the real voucher, is read as that voucher:
	// not glued onto the refused text.
	land("gun: the voucher", 200, chromedp.KeyEvent(qrText+kb.Enter))
	if got := text("rejection"); got != "" {
		t.Fatalf("the voucher's own QR text was refused after a refused scan: %s", got)
	}
	if got := eval(`document.getElementById('voucher').value`); got != qrText {
		t.Fatalf("voucher field holds %q, want exactly the scanned QR text %q", got, qrText)
	}
	if got := eval(`(document.querySelector('#scan-form p.ok') || {textContent: ''}).textContent`); !strings.Contains(got, v.CampaignName) {
		t.Errorf("the scanned voucher's campaign %q is not shown: %q", v.CampaignName, got)
	}

	// 3. The bill, then a confirm step with the amounts in large type;
	// nothing is written before the confirm.
	land("bill", 200, chromedp.KeyEvent("128.50"+kb.Enter))
	step("confirm step", chromedp.WaitVisible(chromedp.CSS(`#quote button.confirm`)))
	if got := text("quote"); !strings.Contains(got, "¥128.50") || !strings.Contains(got, "−¥30.00") || !strings.Contains(got, "¥98.50") {
		t.Errorf("confirm step does not show bill, discount and to-pay: %q", got)
	}
	if px := browserEval[float64](t, ctx, `parseFloat(getComputedStyle(document.getElementById('quote-pay')).fontSize)`); px < 20 {
		t.Errorf("amount to pay in %.0f px type, want at least 20 px", px)
	}
	db := tillDB(t, m)
	if n := tillCount(t, db, `SELECT COUNT(*) FROM redemptions WHERE voucher_id = ?`, v.ID); n != 0 {
		t.Fatalf("%d redemptions before the confirm, want 0", n)
	}
	// A gun scan while the confirm step is up does not confirm it: its
	// Enter follows typed characters. (The focused confirm button would
	// take that Enter as a press.)
	if got := eval(`document.activeElement ? document.activeElement.className : ''`); got != "confirm" {
		t.Errorf("focus on the confirm step is on %q, want the confirm button", got)
	}
	// A listener added after scan.js's sees whether the Enter's submit
	// was held back; key events are handled before KeyEvent returns.
	eval(`(window.tillSubmits = [], document.getElementById('confirm-form').addEventListener('submit', e => window.tillSubmits.push(e.defaultPrevented)), '')`)
	step("gun on the confirm step", chromedp.KeyEvent(qrText+kb.Enter))
	if got := eval(`JSON.stringify(window.tillSubmits)`); got != "[true]" {
		t.Fatalf("the gun's Enter on the confirm step: submits %s, want one, held back ([true])", got)
	}
	if n := tillCount(t, db, `SELECT COUNT(*) FROM redemptions WHERE voucher_id = ?`, v.ID); n != 0 {
		t.Fatalf("a scan on the confirm step redeemed the voucher shown")
	}
	land("confirm", 200, chromedp.Click(chromedp.CSS(`#quote button.confirm`)))
	if got := text("receipt"); !strings.Contains(got, "¥98.50") {
		t.Errorf("receipt: %q", got)
	}
	emptyAndFocused("a redemption")
	if got := text("today"); !strings.Contains(got, "今日核销 1 笔") || !strings.Contains(got, "补贴 ¥30.00") || !strings.Contains(got, "消费 ¥128.50") {
		t.Errorf("scan page after one redemption shows %q, want 1 笔, 补贴 ¥30.00, 消费 ¥128.50", got)
	}

	// 4. The gun scans the same voucher again right after the receipt: it
	// is read as that voucher, now used, not as a forgery of glued text.
	land("gun: the used voucher", 409, chromedp.KeyEvent(qrText+kb.Enter))
	if got := text("rejection"); !strings.Contains(got, "券已使用") {
		t.Errorf("rescanning the used voucher: %q, want 券已使用", got)
	}
	emptyAndFocused("a refusal of a used voucher")

	// 5. A reversal asks first, with the amounts; only the confirm reverses.
	step("redemptions list", chromedp.Navigate(base+"/merchant/redemptions"), chromedp.WaitVisible(chromedp.CSS(`a.reverse`)))
	land("reverse button", 200, chromedp.Click(chromedp.CSS(`a.reverse`)))
	if got := text("reverse-confirm"); !strings.Contains(got, "¥128.50") || !strings.Contains(got, "−¥30.00") {
		t.Errorf("reversal confirm step does not show the amounts: %q", got)
	}
	if n := tillCount(t, db, `SELECT COUNT(*) FROM redemptions WHERE voucher_id = ? AND reversed_at IS NULL`, v.ID); n != 1 {
		t.Fatalf("the reverse button alone reversed the redemption")
	}
	land("confirm reversal", 200, chromedp.Click(chromedp.CSS(`#reverse-confirm button.confirm`)))
	if n := tillCount(t, db, `SELECT COUNT(*) FROM redemptions WHERE voucher_id = ? AND reversed_at IS NOT NULL`, v.ID); n != 1 {
		t.Errorf("after the confirm: %d reversed redemptions, want 1", n)
	}
	if got := text("today"); !strings.Contains(got, "今日核销 0 笔") {
		t.Errorf("after the reversal the day shows %q, want 今日核销 0 笔", got)
	}

	// 6. A shop whose application is pending, then rejected, sees that and
	// the review note instead of a scan form.
	bg, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shop, err := m.App.Apply(bg, app.MerchantApplication{
		Name: "十八梯抄手", USCC: "91350100M000100Y43", Category: "catering", District: "500103",
		Address: "渝中区十八梯 1 号", ContactName: "刘芳", ContactPhone: "13800138001",
		SettlementAccount: "6222021234567890123", OwnerUsername: "shibati", OwnerPassword: "a-long-password",
	})
	if err != nil {
		t.Fatalf("application: %v", err)
	}
	land("sign out", 200, chromedp.Click(chromedp.CSS(`form[action="/merchant/logout"] button`)))
	signIn("shibati", "a-long-password")
	if got := text("merchant-closed"); !strings.Contains(got, "待审核") || !strings.Contains(got, "审核通过后才能核销") {
		t.Errorf("pending shop's page: %q", got)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('#scan-form, #voucher').length`); n != 0 {
		t.Errorf("pending shop sees a scan form")
	}
	approver, err := m.Store.OfficerByUsername(bg, "yuzhong.approver")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.App.ReviewMerchant(bg, approver, shop.ID, "reject", "营业执照照片不清晰"); err != nil {
		t.Fatalf("rejecting: %v", err)
	}
	step("reload", chromedp.Navigate(base+"/merchant"), chromedp.WaitVisible(chromedp.CSS(`#merchant-closed`)))
	if got := text("merchant-closed"); !strings.Contains(got, "未通过") || !strings.Contains(got, "审核意见：营业执照照片不清晰") {
		t.Errorf("rejected shop's page: %q", got)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll('#scan-form, #voucher').length`); n != 0 {
		t.Errorf("rejected shop sees a scan form")
	}

	// Refusals answer 4xx by design, so failed loads are no fault here;
	// scripts that throw or break the CSP are. The camera decoder is absent
	// where `make assets` has not run, which camera_test.go covers.
	for _, msg := range console.all() {
		if msg.kind == "exception" || (msg.csp() && !strings.Contains(msg.text, "jsQR.js")) {
			t.Errorf("browser reported a problem: %s", msg)
		}
	}
}

func tillDB(t *testing.T, m *Main) *sqlx.DB {
	t.Helper()
	d, err := sqlx.Open("sqlite3", "file:"+filepath.Join(m.Config.DataDir, "voucher.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func tillCount(t *testing.T, d *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}
