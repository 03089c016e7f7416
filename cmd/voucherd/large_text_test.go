package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"cqvoucher/app/apptest"
)

// TestBrowserLargeTextModeOnEveryPage: a resident switches the large-text
// mode (适老化) on once; every resident and cashier page then has a base
// font of at least 18 px and targets at least 44 px high, and switching
// it off again is remembered too.
func TestBrowserLargeTextModeOnEveryPage(t *testing.T) {
	browserRequireChromium(t)
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	tab, console, run := browserChineseTab(t, "large", 10*time.Second)
	base := e.Server.URL
	run("phone viewport", chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	run("open /m", chromedp.Navigate(base+"/m"))
	if browserEval[bool](t, tab, `document.body.classList.contains('large')`) {
		t.Fatalf("large text before it was chosen")
	}
	run("switch large text on", chromedp.Navigate(base+"/m"), chromedp.Click(chromedp.CSS(`#display-switch`)), chromedp.WaitVisible(chromedp.CSS(`body.large`)))

	pages := []string{"/m", "/m/login", fmt.Sprintf("/m/campaigns/%d", c.ID), "/m/help", fmt.Sprintf("/m/campaigns/%d/help", c.ID), "/merchant/login", "/merchant/apply", "/lang/en?back=/m", "/m/login"}
	for _, p := range pages {
		run("open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`body`)))
		font := browserEval[string](t, tab, `getComputedStyle(document.body).fontSize`)
		if px, _ := strconv.ParseFloat(font[:len(font)-2], 64); px < 18 {
			t.Errorf("%s: base font %s in large-text mode, want at least 18px", p, font)
		}
		small := browserEval[[]string](t, tab, `Array.from(document.querySelectorAll('button:not(.link), input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select'))
			.filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
			.map(el => el.outerHTML.slice(0, 80))`)
		if len(small) > 0 {
			t.Errorf("%s: targets under 44 px in large-text mode: %q", p, small)
		}
	}
	// The choice is the browser's, remembered: switching off sticks too.
	run("switch large text off", chromedp.Navigate(base+"/m"), chromedp.Click(chromedp.CSS(`#display-switch`)), chromedp.WaitVisible(chromedp.CSS(`body:not(.large)`)))
	run("reload", chromedp.Navigate(base+"/merchant/login"), chromedp.WaitVisible(chromedp.CSS(`body`)))
	if browserEval[bool](t, tab, `document.body.classList.contains('large')`) {
		t.Errorf("large text came back after it was switched off")
	}
	for _, m := range console.all() {
		if m.bad() {
			t.Errorf("browser reported a problem: %s", m)
		}
	}
	// A mode the product does not know is a plain 404, and sets nothing.
	res, err := http.Get(base + "/display/tiny?back=/m")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || len(res.Cookies()) > 1 {
		t.Errorf("/display/tiny: %d, cookies %v", res.StatusCode, res.Cookies())
	}
}

// TestBrowserNothingOverflowsANarrowPhone: on a 360 px screen, in both
// display modes, no resident, cashier or public page is wider than the
// screen, signed in or not; the tables of rows (open data, the resident's
// sign-ins and vouchers, the till's redemptions of the day, the shop's
// statements, staff and API keys) show each row as a card, each cell
// labelled by its column.
func TestBrowserNothingOverflowsANarrowPhone(t *testing.T) {
	browserRequireChromium(t)
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝味360碗·餐饮消费季（第二期）重庆市渝中区解放碑商圈专场"})
	// A day at the till: one redemption, so the day's list and the
	// statement have a row each, seen by the shop's owner.
	v, residentTok := liveVoucher(t, e, "13912340360")
	ownerAccount := e.NewOwner(t, e.Merchant, "owner")
	owner := e.CashierSession(t, ownerAccount)
	redeemAtTill(t, e, owner, v, "150")
	if _, err := e.App.CreateAPIKey(context.Background(), ownerAccount, "收银台 1"); err != nil {
		t.Fatal(err)
	}
	tab, _, run := browserChineseTab(t, "narrow", 10*time.Second)
	base := e.Server.URL
	run("a 360 px phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	run("open /m", chromedp.Navigate(base+"/m"))
	run("the resident and the shop's owner are signed in (sign-in has tests of its own)",
		browserSetCookie(base, "cqv_resident", residentTok), browserSetCookie(base, "cqv_cashier", owner))

	// Each page with its tables of rows, which must show as cards.
	pages := []struct {
		path  string
		cards []string
	}{
		{"/m", nil}, {"/m/login", nil}, {fmt.Sprintf("/m/campaigns/%d", c.ID), nil}, {"/open-data", []string{"table.cards-narrow"}},
		{"/m/wallet", nil}, {"/m/vouchers/" + v.Code, nil}, {"/m/me", []string{"#me-sessions", "#me-vouchers"}},
		{"/m/terms", nil}, {"/m/privacy", nil}, {"/m/consent", nil},
		{"/m/help", nil}, {fmt.Sprintf("/m/campaigns/%d/help", c.ID), nil}, {"/m/feedback", nil}, {"/m/feedback/new", nil},
		{"/merchant", nil}, {"/merchant/redemptions", []string{"table.cards-narrow"}}, {"/merchant/statements", []string{"table.cards-narrow"}},
		{"/merchant/staff", []string{"table.cards-narrow:nth-of-type(1)", "table.cards-narrow:nth-of-type(2)"}},
		{"/merchant/login", nil}, {"/merchant/apply", nil},
	}
	for _, display := range []string{"normal", "large"} {
		run("display "+display, chromedp.Navigate(base+"/display/"+display+"?back=/m"))
		for _, p := range pages {
			run("open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(`body`)))
			if w := browserEval[float64](t, tab, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("%s (%s): the page is %v px wide on a 360 px screen; reaching past it: %s", p.path, display, w,
					browserEval[string](t, tab, `Array.from(document.querySelectorAll('body *')).filter(el => el.getBoundingClientRect().right > 360).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')).slice(0, 6).join(', ')`))
			}
			for _, table := range p.cards {
				if problem := browserEval[string](t, tab, fmt.Sprintf(narrowCardsCheck, table)); problem != "" {
					t.Errorf("%s (%s), %s: %s", p.path, display, table, problem)
				}
			}
		}
	}
}

// narrowCardsCheck (a JavaScript expression, %%q the table's selector) says
// how a table fails to show its rows as cards, or "": no header row, each
// row a block of its own, each cell with a data row's label shown before it
// (the empty row saying "none" and a row's action cell need none).
const narrowCardsCheck = `(() => {
	const table = document.querySelector(%q);
	if (!table) return 'no such table';
	if (getComputedStyle(table.querySelector('thead')).display !== 'none') return 'the header row is shown';
	const rows = table.querySelectorAll('tbody tr');
	if (rows.length === 0) return 'no rows to show';
	for (const tr of rows) {
		if (getComputedStyle(tr).display !== 'block') return 'a row is not a card: ' + tr.textContent.trim().slice(0, 40);
		if (tr.getBoundingClientRect().right > document.documentElement.clientWidth) return 'a card is wider than the screen';
		for (const td of tr.cells) {
			if (td.colSpan > 1 || td.classList.contains('row-actions')) continue;
			const label = getComputedStyle(td, '::before').content;
			if (!td.dataset.label || label !== JSON.stringify(td.dataset.label)) return 'a cell without its label: ' + td.textContent.trim().slice(0, 40);
		}
	}
	return '';
})()`

// browserSetCookie gives the tab a cookie of the server at base, as a
// sign-in would have set it.
func browserSetCookie(base, name, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: base + "/"})
		return err
	})
}
