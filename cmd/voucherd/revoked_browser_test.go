package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserTillHonoursTheRevocationList: a voucher two officers voided is
// scanned at the till, in headless Chromium. The page has the published
// list (/.well-known/revoked.json) and refuses the voucher itself, before
// anything is posted, and keeps the list for when the network drops.
func TestBrowserTillHonoursTheRevocationList(t *testing.T) {
	browserRequireChromium(t)
	p := browserProductTab(t, "revoked", 15*time.Second)
	m, base, ctx, step, console := p.m, p.base, p.tab, p.step, p.console
	v, qrText := cameraClaimVoucher(t, m, p.logs)
	bg := context.Background()
	maker, err := m.Store.OfficerByUsername(bg, "yuzhong.maker")
	if err != nil {
		t.Fatal(err)
	}
	approver, err := m.Store.OfficerByUsername(bg, "yuzhong.approver")
	if err != nil {
		t.Fatal(err)
	}
	req, err := m.App.RequestVoid(bg, maker, v.Code, "同一设备 40 分钟内领取 23 张，疑似套现")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.App.DecideVoid(bg, approver, req.ID, true, "核实属实"); err != nil {
		t.Fatal(err)
	}
	eval := func(expr string) string { t.Helper(); return browserEval[string](t, ctx, expr) }
	step("sign in at the till", chromedp.Navigate(base+"/merchant/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "cashier.jfb"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo1234"),
		chromedp.Click(chromedp.CSS(`form[action="/merchant/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#scan-form[data-revoked="1"]`)),
	)
	if got := eval(`localStorage.getItem('cqv-revoked') || ''`); !strings.Contains(got, req.RID) {
		t.Errorf("the till keeps %q, want the list with %s", got, req.RID)
	}
	// A listener added after revoked.js's sees whether the submit went on.
	eval(`(window.posted = 0, document.getElementById('scan-form').addEventListener('submit', e => { if (!e.defaultPrevented) window.posted++; }), '')`)
	step("the gun scans the voided voucher",
		chromedp.Focus(chromedp.CSS(`#voucher`)),
		chromedp.KeyEvent(qrText+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#revoked-alert`)),
	)
	if got := eval(`document.getElementById('revoked-alert').innerText`); !strings.Contains(got, "作废") {
		t.Errorf("the till says %q", got)
	}
	if got := eval(`String(window.posted)`); got != "0" {
		t.Errorf("the voided voucher was posted %s times", got)
	}
	if got := eval(`document.getElementById('voucher').value`); got != "" {
		t.Errorf("the voucher field still holds %q", got)
	}
	shot(t, ctx, "till-revoked.png")
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
