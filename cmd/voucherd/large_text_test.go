package main

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

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
// screen; the open-data table shows its rows as cards.
func TestBrowserNothingOverflowsANarrowPhone(t *testing.T) {
	browserRequireChromium(t)
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝味360碗·餐饮消费季（第二期）重庆市渝中区解放碑商圈专场"})
	tab, _, run := browserChineseTab(t, "narrow", 10*time.Second)
	base := e.Server.URL
	run("a 360 px phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, display := range []string{"normal", "large"} {
		run("display "+display, chromedp.Navigate(base+"/display/"+display+"?back=/m"))
		for _, p := range []string{"/m", "/m/login", fmt.Sprintf("/m/campaigns/%d", c.ID), "/m/help", fmt.Sprintf("/m/campaigns/%d/help", c.ID), "/open-data", "/merchant/login", "/merchant/apply"} {
			run("open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS(`body`)))
			if w := browserEval[float64](t, tab, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("%s (%s): the page is %v px wide on a 360 px screen", p, display, w)
			}
		}
	}
	run("open data", chromedp.Navigate(base+"/open-data"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	if got := browserEval[string](t, tab, `getComputedStyle(document.querySelector('table.cards-narrow thead')).display`); got != "none" {
		t.Errorf("open-data table header on a phone: display %q, want the rows as cards", got)
	}
}
