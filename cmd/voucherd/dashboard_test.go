package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cqvoucher/seeds"
	"cqvoucher/templates"
)

// TestBrowserDashboardDrawsCharts opens an officer's dashboard of a
// generated season in headless Chromium: the ECharts charts are drawn
// (canvases of real size), the live view refreshes itself, and nothing is
// logged to the console, CSP violations included.
func TestBrowserDashboardDrawsCharts(t *testing.T) {
	browserRequireChromium(t)
	if body, err := fs.ReadFile(templates.FS, "static/vendor/echarts.min.js"); err != nil || len(body) < 100_000 {
		msg := "templates/static/vendor/echarts.min.js is missing or a stub: run `make assets` (needs npm)"
		if os.Getenv("VOUCHER_BROWSER_TESTS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	m, base, ctx, console, step := browserOfficerProduct(t)
	if _, err := seeds.LoadSeason(context.Background(), m.Store, m.App, seeds.SeasonOptions{Redemptions: 2000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	// The demo officer of 渝中区 sees the season's 渝中 campaign.
	var campaignID int64
	if err := m.Store.QueryRow(context.Background(), `SELECT id FROM campaigns WHERE district_code = '500103' AND season <> '' LIMIT 1`).Scan(&campaignID); err != nil {
		t.Fatal(err)
	}

	step("open the dashboard",
		chromedp.Navigate(fmt.Sprintf("%s/officer/campaigns/%d/dashboard", base, campaignID)),
		chromedp.WaitVisible(chromedp.CSS(`#chart-days canvas`)),
	)
	for _, id := range []string{"chart-funnel", "chart-days", "chart-hours", "chart-districts"} {
		w := browserEval[float64](t, ctx, fmt.Sprintf(`(() => { const c = document.querySelector('#%s canvas'); return c ? c.width : 0; })()`, id))
		if w < 200 {
			t.Errorf("%s: canvas width %v, want a drawn chart", id, w)
		}
	}
	if rows := browserEval[float64](t, ctx, `document.querySelectorAll('#by_day tbody tr').length`); rows < 10 {
		t.Errorf("the by-day table has %v rows, want the season's days", rows)
	}
	step("open the live view",
		chromedp.Navigate(fmt.Sprintf("%s/officer/campaigns/%d/live", base, campaignID)),
		chromedp.WaitVisible(chromedp.CSS(`#live-stock tr`)),
	)
	if got := browserEval[string](t, ctx, `document.getElementById('live-rate').textContent`); !strings.HasSuffix(got, "/s") {
		t.Errorf("live rate %q, want a rate", got)
	}
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
