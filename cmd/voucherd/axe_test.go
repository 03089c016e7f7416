package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// axePath is axe-core, the accessibility engine, installed from the npm
// lockfile by `make assets` (a development dependency: it is never served).
const axePath = "../../node_modules/axe-core/axe.min.js"

// TestBrowserAccessibilityOfResidentAndCashierPages runs axe-core in
// Chromium on every resident and cashier page, in Chinese and English and
// in the large-text mode, on a phone-sized screen, and fails on any
// serious or critical violation.
func TestBrowserAccessibilityOfResidentAndCashierPages(t *testing.T) {
	browserRequireChromium(t)
	axe, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("VOUCHER_BROWSER_TESTS") == "1" {
			t.Fatalf("axe-core missing (%v): run make assets (npm ci)", err)
		}
		t.Skipf("axe-core missing (%v): run make assets", err)
	}
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	resident, residentTok := e.ResidentSession(t, "13800138000")
	v, err := e.App.Claim(ctx, resident, c.ID, c.Tiers[0].ID, "axe")
	if err != nil {
		t.Fatal(err)
	}
	cashierTok := e.CashierSession(t, e.Cashier)
	// Feedback with an answer, so that 我的反馈 shows an answered record
	// and the pages their unread badge.
	if _, err := e.App.SaveContact(ctx, e.Maker, "500103", app.ContactInput{OfficeName: "渝中区商务委员会", Hotline: "023-6380 0103", OfficeHours: "工作日 9:00–17:30"}); err != nil {
		t.Fatal(err)
	}
	fb, err := e.App.FileFeedback(ctx, resident, app.FeedbackInput{Category: "merchant", Voucher: v.Code, Body: "收银员不收券。"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.AnswerFeedback(ctx, e.Maker, fb.ID, "已核实，商户可正常收券。"); err != nil {
		t.Fatal(err)
	}

	// The language is chosen per round below (the /lang switch), whatever
	// the browser asks for.
	tab, _, run := browserChineseTab(t, "axe", 15*time.Second)
	base := e.Server.URL
	run("phone viewport", chromedp.EmulateViewport(browserPhoneWidth, browserPhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	// The session cookies are set from the page (same origin): the test
	// holds the sessions' tokens, a sign-in has tests of its own.
	setCookie := func(name, value string) chromedp.Action[chromedp.Void] {
		cookie := name + "=" + value + "; path=/"
		if value == "" {
			cookie = name + "=; path=/; max-age=0"
		}
		return chromedp.Evaluate[chromedp.Void](`(() => { document.cookie = "` + cookie + `"; })()`)
	}
	type page struct{ who, path string }
	pages := []page{
		{"anyone", "/m"}, {"anyone", "/m/login"}, {"anyone", fmt.Sprintf("/m/campaigns/%d", c.ID)}, {"anyone", "/v/" + v.Token},
		{"anyone", "/merchant/login"}, {"anyone", "/merchant/apply"},
		{"anyone", "/m/terms"}, {"anyone", "/m/privacy"},
		{"anyone", "/m/help"}, {"anyone", fmt.Sprintf("/m/campaigns/%d/help", c.ID)},
		{"resident", "/m/wallet"}, {"resident", "/m/vouchers/" + v.Code}, {"resident", "/m/identity"},
		{"resident", "/m/me"}, {"resident", "/m/consent"},
		{"resident", "/m/feedback/new?voucher=" + v.Code}, {"resident", "/m/feedback"}, {"resident", "/m/help"},
		{"cashier", "/merchant"}, {"cashier", "/merchant/redemptions"},
	}
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []string `json:"target"`
		} `json:"nodes"`
	}
	for _, lang := range []string{"zh", "en"} {
		for _, display := range []string{"normal", "large"} {
			run("language and display", chromedp.Navigate(base+"/lang/"+lang+"?back=/m"), chromedp.Navigate(base+"/display/"+display+"?back=/m"))
			for _, p := range pages {
				run("sign-in cookies", setCookie("cqv_resident", map[bool]string{true: residentTok}[p.who == "resident"]),
					setCookie("cqv_cashier", map[bool]string{true: cashierTok}[p.who == "cashier"]))
				run("open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitReady(chromedp.CSS(`body`)))
				// A safety net, not a measure: axe on the longest page (the
				// help page with every district's hotline) took over 30 s on
				// a machine whose cores another job filled.
				sctx, cancel := context.WithTimeout(tab, 120*time.Second)
				raw, err := chromedp.Run(sctx, chromedp.Evaluate[string](string(axe)+`;
					axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`,
					chromedp.EvalAwaitPromise))
				cancel()
				if err != nil {
					t.Fatalf("axe on %s: %v", p.path, err)
				}
				var vs []violation
				if err := json.Unmarshal([]byte(raw), &vs); err != nil {
					t.Fatalf("axe's answer on %s: %v", p.path, err)
				}
				for _, x := range vs {
					if x.Impact == "serious" || x.Impact == "critical" {
						var where []string
						for _, n := range x.Nodes {
							where = append(where, n.Target...)
						}
						t.Errorf("%s %s (%s, %s): %s %s: %s at %v", lang, display, p.who, p.path, x.Impact, x.ID, x.Help, where)
					}
				}
			}
		}
	}
}
