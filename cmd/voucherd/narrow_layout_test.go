package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app/apptest"
)

// TestBrowserVoucherAndFactsReadWellOnANarrowPhone: on a 360 px screen, in
// both display modes, what a resident reads at the till and at sign-in is
// laid out to be read, not only kept inside the screen: the consent box
// stands before its words, the manual code is one line of four groups, the
// QR stays inside its card, the facts of 我的信息 keep room for their
// values, and a used voucher's 已使用 is at least twice the text's size.
func TestBrowserVoucherAndFactsReadWellOnANarrowPhone(t *testing.T) {
	browserRequireChromium(t)
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 2})
	resident, tok := e.ResidentSession(t, "13912340361")
	usable, err := e.App.Claim(context.Background(), resident, c.ID, c.Tiers[0].ID, "narrow-usable")
	if err != nil {
		t.Fatal(err)
	}
	used, err := e.App.Claim(context.Background(), resident, c.ID, c.Tiers[0].ID, "narrow-used")
	if err != nil {
		t.Fatal(err)
	}
	redeemAtTill(t, e, e.CashierSession(t, e.Cashier), used, "150")
	tab, _, run := browserChineseTab(t, "narrow-read", 10*time.Second)
	base := e.Server.URL
	run("a 360 px phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile))

	for _, display := range []string{"normal", "large"} {
		run("display "+display, chromedp.Navigate(base+"/display/"+display+"?back=/m/login"), chromedp.WaitVisible(chromedp.CSS(`input[name=consent]`)))
		if problem := browserEval[string](t, tab, `(() => {
			const box = document.querySelector('input[name=consent]').getBoundingClientRect();
			const label = document.querySelector('label.consent').getBoundingClientRect();
			if (box.width > 40) return 'the box is ' + box.width + ' px wide';
			if (box.left - label.left > 4) return 'the box stands ' + (box.left - label.left) + ' px into its line, not before its words';
			return '';
		})()`); problem != "" {
			t.Errorf("/m/login (%s): consent: %s", display, problem)
		}

		run("signed in", browserSetCookie(base, "cqv_resident", tok))
		run("usable voucher", chromedp.Navigate(base+"/m/vouchers/"+usable.Code), chromedp.WaitVisible(chromedp.CSS(`#manual-code`)))
		if problem := browserEval[string](t, tab, `(() => {
			const code = document.getElementById('manual-code');
			const lineHeight = parseFloat(getComputedStyle(code).lineHeight);
			if (code.getBoundingClientRect().height > 1.5 * lineHeight) return 'the manual code breaks over ' + Math.round(code.getBoundingClientRect().height / lineHeight) + ' lines';
			const qr = document.querySelector('img.qr').getBoundingClientRect(), card = document.getElementById('voucher').getBoundingClientRect();
			if (qr.left < card.left || qr.right > card.right) return 'the QR spans ' + qr.left + '..' + qr.right + ' outside its card ' + card.left + '..' + card.right;
			return '';
		})()`); problem != "" {
			t.Errorf("voucher page (%s): %s", display, problem)
		}

		run("used voucher", chromedp.Navigate(base+"/m/vouchers/"+used.Code), chromedp.WaitVisible(chromedp.CSS(`#voucher-used`)))
		if ratio := browserEval[float64](t, tab, `parseFloat(getComputedStyle(document.querySelector('#voucher-used .used-mark')).fontSize) / parseFloat(getComputedStyle(document.body).fontSize)`); ratio < 2 {
			t.Errorf("used voucher (%s): 已使用 is %.2f× the text's size, want at least 2×", display, ratio)
		}

		run("我的信息", chromedp.Navigate(base+"/m/me"), chromedp.WaitVisible(chromedp.CSS(`#me-consent`)))
		if crushed := browserEval[[]string](t, tab, `Array.from(document.querySelectorAll('dl.facts dd'))
			.filter(dd => dd.getBoundingClientRect().width < 0.4 * dd.parentElement.getBoundingClientRect().width)
			.map(dd => Math.round(dd.getBoundingClientRect().width) + ' px: ' + dd.textContent.trim().slice(0, 30))`); len(crushed) > 0 {
			t.Errorf("/m/me (%s): values squeezed under 40%% of the line: %q", display, crushed)
		}
	}
}
