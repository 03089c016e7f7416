package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cqvoucher/app"
)

// TestBrowserAuditReadsAsSentences reads the audit log as an officer does,
// in headless Chromium: after a campaign is approved with an opinion, the
// officer picks 审批通过 from the action filter, and the page says who
// approved which campaign when, with the opinion, and nothing else.
func TestBrowserAuditReadsAsSentences(t *testing.T) {
	m, base, ctx, console, step := browserOfficerProduct(t)
	bg := context.Background()
	maker, err := m.Store.OfficerByUsername(bg, "yuzhong.maker")
	if err != nil {
		t.Fatal(err)
	}
	approver, err := m.Store.OfficerByUsername(bg, "yuzhong.approver")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c, err := m.App.CreateCampaign(bg, maker, app.CampaignInput{
		Name: "渝味360碗·火锅季", District: "500103", Category: "catering", Budget: "30000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "500"}},
		ClaimStarts: now.Add(24 * time.Hour).Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.App.SubmitCampaign(bg, maker, c.ID); err != nil {
		t.Fatal(err)
	}
	const opinion = "预算与方案一致"
	if err := m.App.ApproveCampaign(bg, approver, c.ID, opinion); err != nil {
		t.Fatal(err)
	}
	rows, err := m.Store.AuditLog(bg, app.AuditFilter{ActionIs: app.ActionCampaignApprove, EntityID: c.ID, Limit: 1})
	if err != nil || len(rows) != 1 {
		t.Fatalf("the approval's audit row: %v, %v", rows, err)
	}

	step("open the audit log", chromedp.Navigate(base+"/officer/audit"), chromedp.WaitVisible(chromedp.CSS(`ol.audit-log`)))
	step("filter by 审批通过",
		chromedp.SetValue(chromedp.CSS(`select[name=action]`), app.ActionCampaignApprove),
		chromedp.Submit(chromedp.CSS(`select[name=action]`)),
		chromedp.WaitReady(chromedp.CSS(`select[name=action] option[value="campaign.approve"][selected]`)),
	)
	sentences := browserEval[[]string](t, ctx, `[...document.querySelectorAll('ol.audit-log .sentence')].map(p => p.textContent)`)
	want := app.FormatLocal(rows[0].At) + " " + approver.Name + "（区县财政人员，审批人）批准了活动「渝味360碗·火锅季」，审批意见：" + opinion
	if len(sentences) == 0 || sentences[0] != want {
		t.Fatalf("the first approval says %q, want %q", sentences, want)
	}
	for _, s := range sentences {
		if !strings.Contains(s, "批准了活动「") || strings.Contains(s, "的追加预算") {
			t.Errorf("filtered by 审批通过, the page says %q", s)
		}
	}
	shot(t, ctx, "audit-approvals.png")
	step("back to every action", chromedp.SetValue(chromedp.CSS(`select[name=action]`), ""),
		chromedp.Submit(chromedp.CSS(`select[name=action]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.changes`)))
	shot(t, ctx, "audit-all.png")
	for _, msg := range console.all() {
		t.Errorf("console: %s", msg)
	}
}
