package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
)

// TestBrowserApprovalChecklistAndConfirmations decides on a campaign as an
// approver does, in headless Chromium: the approval opens its checklist,
// which warns that no merchant accepts the vouchers (a sports campaign in
// a district with only restaurants); the opinion is required and lands in
// the audit log; pausing first says what a pause does, and only the
// confirmation pauses.
func TestBrowserApprovalChecklistAndConfirmations(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	bg := context.Background()
	maker, err := m.Store.OfficerByUsername(bg, "yuzhong.maker")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := m.App.CreateCampaign(bg, maker, app.CampaignInput{
		Name: "渝中区全民健身消费季", District: "500103", Category: "sports", Budget: "20000",
		Tiers:       []app.TierInput{{Face: "20", Threshold: "100", Quantity: "300"}},
		ClaimStarts: now.Add(24 * time.Hour).Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.App.SubmitCampaign(bg, maker, c.ID); err != nil {
		t.Fatal(err)
	}
	campaignURL := fmt.Sprintf("%s/officer/campaigns/%d", base, c.ID)

	text := func(sel string) string {
		t.Helper()
		return browserEval[string](t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel))
	}
	step("open the checklist from the campaign page",
		chromedp.Navigate(campaignURL),
		chromedp.Click(chromedp.CSS(`#review-approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#checklist`)),
	)
	if got := text("#warn-no_merchants"); !strings.Contains(got, "没有任何商户") {
		t.Errorf("no-merchant warning %q", got)
	}
	if got := text("#check-merchants"); !strings.Contains(got, "0 家") {
		t.Errorf("merchants on the checklist %q, want 0 家", got)
	}
	if got := text("#check-committed"); !strings.Contains(got, "¥6,000.00") || !strings.Contains(got, "30.00%") {
		t.Errorf("committed on the checklist %q, want ¥6,000.00, 30.00%% of the budget", got)
	}
	if got := text("#warn-budget_unused"); got == "" {
		t.Error("no warning that the tiers commit less than half of the budget")
	}
	shot(t, ctx, "approval-checklist.png")
	// An empty opinion is refused by the form itself: nothing is posted.
	step("press approve without an opinion", chromedp.Click(chromedp.CSS(`#approve-confirm`)))
	if valid := browserEval[bool](t, ctx, `document.querySelector('textarea[name=opinion]').checkValidity()`); valid {
		t.Error("the empty opinion box counts as valid")
	}
	if st, _ := m.Store.Campaign(bg, c.ID); st.Status != app.StatusSubmitted {
		t.Fatalf("approved without an opinion: %s", st.Status)
	}
	const opinion = "同意。商户范围待体育商户入驻后再开放领取。"
	step("approve with an opinion",
		chromedp.SendKeys(chromedp.CSS(`textarea[name=opinion]`), opinion),
		chromedp.Click(chromedp.CSS(`#approve-confirm`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-pause`)),
	)
	entries, err := m.Store.AuditLog(bg, app.AuditFilter{Entity: "campaign", EntityID: c.ID, Action: "campaign.approve", Limit: 10})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].AfterJSON, opinion) {
		t.Fatalf("the approval in the audit log: %v %+v", err, entries)
	}

	step("pause: the button leads to what a pause does",
		chromedp.Click(chromedp.CSS(`#confirm-pause`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-summary`)),
	)
	if got := text("#confirm-summary"); !strings.Contains(got, "居民立即不能再领取") || !strings.Contains(got, "商户立即不能再核销") {
		t.Errorf("pause summary %q", got)
	}
	if st, _ := m.Store.Campaign(bg, c.ID); st.Status != app.StatusApproved {
		t.Fatalf("the campaign changed before the pause was confirmed: %s", st.Status)
	}
	step("confirm the pause",
		chromedp.Click(chromedp.CSS(`#confirm-action`)),
		chromedp.WaitVisible(chromedp.CSS(`.status-paused`)),
	)
	if st, _ := m.Store.Campaign(bg, c.ID); st.Status != app.StatusPaused {
		t.Fatalf("after the confirmed pause: %s", st.Status)
	}
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}

// shot saves a screenshot of the tab under VOUCHER_BROWSER_SHOTS (or the
// test's temporary directory), for a human to look at.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("VOUCHER_BROWSER_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
