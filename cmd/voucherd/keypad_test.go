package main

// The till's code field on a phone (390×844) in a real headless Chromium:
// it opens the digit keyboard, one tap switches to letters for the older
// codes, a code typed with its groups is found, and a slip of one digit is
// refused in words before anything is looked up. Skips like
// browser_test.go without Chromium.

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"cqvoucher/app/token"
)

func TestBrowserTillTypesDigitCodes(t *testing.T) {
	browserRequireChromium(t)
	p := browserProductTab(t, "keypad", 15*time.Second)
	m, base, ctx, step := p.m, p.base, p.tab, p.step
	v, _ := cameraClaimVoucher(t, m, p.logs)
	eval := func(expr string) string { t.Helper(); return browserEval[string](t, ctx, expr) }

	step("sign in", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/merchant/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "cashier.jfb"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo1234"),
		chromedp.Click(chromedp.CSS(`form[action="/merchant/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#keypad-toggle`)))

	if got := eval(`document.getElementById('voucher').inputMode + ' ' + document.getElementById('keypad-toggle').textContent`); got != "numeric 字母键盘" {
		t.Errorf("code field on opening: %q, want the digit keyboard and a toggle to letters", got)
	}
	step("switch to letters", chromedp.Click(chromedp.CSS(`#keypad-toggle`)))
	if got := eval(`document.getElementById('voucher').inputMode + ' ' + document.getElementById('keypad-toggle').textContent + ' ' + document.activeElement.id`); got != "text 数字键盘 voucher" {
		t.Errorf("after the toggle: %q, want the text keyboard, a toggle back to digits, the focus in the field", got)
	}
	step("back to digits", chromedp.Click(chromedp.CSS(`#keypad-toggle`)))

	// One digit misheard: refused in words, before any lookup.
	slip := []byte(v.Code)
	slip[7] = '0' + (slip[7]-'0'+1)%10
	step("type a slip", chromedp.SendKeys(chromedp.CSS(`#voucher`), token.FormatCode(string(slip))+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#rejection`)))
	if got := eval(`document.getElementById('rejection').innerText`); !strings.Contains(got, "券码有误，请核对后重新输入") {
		t.Errorf("a slip of one digit: %q", got)
	}
	// The code as printed, in groups: the voucher.
	step("type the code", chromedp.SendKeys(chromedp.CSS(`#voucher`), token.FormatCode(v.Code)+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#scan-form p.ok`)))
	if got := eval(`document.querySelector('#scan-form p.ok').textContent`); !strings.Contains(got, v.CampaignName) {
		t.Errorf("the typed code's voucher is not shown: %q", got)
	}
}
