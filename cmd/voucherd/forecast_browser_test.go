package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/seeds"
)

// TestBrowserForecastAndWhatIf reads a season campaign's pacing page as
// an officer does, in headless Chromium: the outlook with its stated
// assumptions, the tiers, and a what-if computed from the form.
func TestBrowserForecastAndWhatIf(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	bg := context.Background()
	if _, err := seeds.LoadSeason(bg, m.Store, m.App, seeds.SeasonOptions{Redemptions: 1500, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	var camp app.Campaign
	cs, err := m.App.PublishedCampaigns(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.District == "500103" && c.Season != "" {
			camp = c
		}
	}
	if camp.ID == 0 || len(camp.Tiers) < 2 {
		t.Fatalf("no two-tier season campaign of 渝中: %+v", camp)
	}
	text := func(sel string) string {
		t.Helper()
		return browserEval[string](t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel))
	}
	step("open the pacing page from the campaign",
		chromedp.Navigate(fmt.Sprintf("%s/officer/campaigns/%d", base, camp.ID)),
		chromedp.Click(chromedp.CSS(`#forecast-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#forecast`)),
	)
	if got := text("#fc-pace"); !strings.Contains(got, "平均每天领取") {
		t.Errorf("pace %q", got)
	}
	if got := text("#fc-assumptions"); !strings.Contains(got, "指数分布") || !strings.Contains(got, "小时") {
		t.Errorf("assumptions %q", got)
	}
	if got := text("#fc-redeemed"); !strings.Contains(got, "核销率") {
		t.Errorf("redemptions %q", got)
	}
	step("what if 50 move to the second tier",
		chromedp.SendKeys(chromedp.CSS(`input[name=move_n]`), "50"),
		chromedp.Click(chromedp.CSS(`#what-if button`)),
		chromedp.WaitVisible(chromedp.CSS(`#what-if-budget`)),
	)
	if got := text("#what-if-budget"); !strings.Contains(got, "万元 →") || !strings.Contains(got, "预算") {
		t.Errorf("what-if %q", got)
	}
	shot(t, ctx, "forecast.png")
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
