package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
	"cqvoucher/seeds"
)

// TestBrowserBulkPayment pays a district's unpaid statements as a finance
// officer does, in headless Chromium, on a generated season: the list's totals
// name what can be paid; the button leads to a confirmation of the fund,
// the count and the sum, and nothing is paid until it is confirmed; the
// confirmed batch's page offers its payment file.
func TestBrowserBulkPayment(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	bg := context.Background()
	maker, err := m.Store.OfficerByUsername(bg, "yuzhong.maker")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seeds.LoadSeason(bg, m.Store, m.App, seeds.SeasonOptions{Redemptions: 600, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	f := app.StatementFilter{From: "2000-01-01", To: m.App.Today(), District: maker.District, Paid: app.UnpaidOnly}
	before, err := m.Store.StatementTotals(bg, f, m.App.Today())
	if err != nil || before.Payable == 0 {
		t.Fatalf("the demo season leaves nothing to pay for 渝中 (%v): %+v", err, before)
	}
	text := func(sel string) string {
		t.Helper()
		return browserEval[string](t, ctx, `(document.querySelector(`+"`"+sel+"`"+`) || {textContent: ""}).textContent`)
	}
	step("open the unpaid statements since 2000",
		chromedp.Navigate(base+"/officer/settlements?from=2000-01-01&paid=unpaid"),
		chromedp.WaitVisible(chromedp.CSS(`#pay-selection`)),
	)
	want := app.Fen(before.PayableFen).Grouped()
	if got := text("#pay-selection"); !strings.Contains(got, want) {
		t.Errorf("pay button %q, want the payable %s", got, want)
	}
	shot(t, ctx, "settlements.png")
	step("the button leads to a confirmation",
		chromedp.Click(chromedp.CSS(`#pay-selection`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-summary`)),
	)
	if got := text("#pay-what"); !strings.Contains(got, "将由渝中区资金支付") || !strings.Contains(got, want) {
		t.Errorf("confirmation %q", got)
	}
	shot(t, ctx, "settlement-pay.png")
	if n, _ := m.Store.PaymentBatches(bg, "", 10); len(n) != 0 {
		t.Fatalf("paid before the confirmation: %v", n)
	}
	step("confirm",
		chromedp.Click(chromedp.CSS(`#confirm-action`)),
		chromedp.WaitVisible(chromedp.CSS(`#batch-summary`)),
	)
	bs, err := m.Store.PaymentBatches(bg, "", 10)
	if err != nil || len(bs) != 1 || bs[0].Statements != before.Payable || bs[0].SubsidyFen != before.PayableFen {
		t.Fatalf("batches after confirming: %v %+v, want one of %d statements, %d fen", err, bs, before.Payable, before.PayableFen)
	}
	if got := text("#batch-amount"); got != want {
		t.Errorf("batch amount %q, want %s", got, want)
	}
	if href := browserEval[string](t, ctx, `document.querySelector('#payment-file').getAttribute('href')`); !strings.HasSuffix(href, "?format=csv") {
		t.Errorf("payment file link %q", href)
	}
	after, err := m.Store.StatementTotals(bg, f, m.App.Today())
	if err != nil || after.Payable != 0 {
		t.Errorf("payable after the batch: %v %+v", err, after)
	}
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
