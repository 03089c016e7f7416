package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLiveViewOfAQuietCampaign opens the officer's live view of a
// campaign that nobody has pressed yet, in headless Chromium: no claims and
// no refusals. The page must still draw (stock per tier, a rate, the time
// of the last update) instead of staying on "正在连接…", and log nothing.
func TestBrowserLiveViewOfAQuietCampaign(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	var campaignID int64
	if err := m.Store.QueryRow(context.Background(),
		`SELECT id FROM campaigns WHERE district_code = '500103' AND status = 'approved' ORDER BY id LIMIT 1`).Scan(&campaignID); err != nil {
		t.Fatal(err)
	}

	step("open the live view",
		chromedp.Navigate(fmt.Sprintf("%s/officer/campaigns/%d/live", base, campaignID)),
		chromedp.WaitVisible(chromedp.CSS(`#live-updated`)),
	)
	// The first poll goes out at once; allow a few rounds of two seconds.
	step("the view leaves 正在连接…", chromedp.Poll[chromedp.Void](
		`document.getElementById('live-updated').textContent !== '正在连接…'`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))

	if got := browserEval[string](t, ctx, `document.getElementById('live-rate').textContent`); got != "0.0 /s" {
		t.Errorf("live rate %q, want 0.0 /s for a campaign nobody pressed", got)
	}
	if n := browserEval[float64](t, ctx, `document.querySelectorAll('#live-stock tr').length`); n < 1 {
		t.Errorf("%v stock rows, want one per tier", n)
	}
	if n := browserEval[float64](t, ctx, `document.querySelectorAll('#live-refusals tr').length`); n != 0 {
		t.Errorf("%v refusal rows before any refusal", n)
	}
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
