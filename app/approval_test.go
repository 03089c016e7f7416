package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestApprovalChecklistShowsWhatChangedSinceTheLastSubmission: a campaign
// is submitted, sent back, edited twice and submitted again. The approver's
// checklist names each field the edits changed, from what the approver's
// colleague saw to what is submitted now, and nothing else; the first
// submission of another campaign has no changes. The approval needs an
// opinion, which the audit log keeps.
func TestApprovalChecklistShowsWhatChangedSinceTheLastSubmission(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	now := e.Clock.Now()
	in := app.CampaignInput{
		Name: "渝味360碗·餐饮消费季", District: "500103", Category: "catering", Budget: "10000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}},
		ClaimStarts: now.Add(24 * time.Hour).Format(time.RFC3339), ClaimEnds: now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1",
	}
	c, err := e.App.CreateCampaign(ctx, e.Maker, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.SubmitCampaign(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	first, err := e.App.ApprovalChecklist(ctx, e.Approver, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first.Resubmitted || first.Changes != nil {
		t.Fatalf("a first submission: resubmitted %v, changes %v", first.Resubmitted, first.Changes)
	}
	if err := e.App.RejectCampaign(ctx, e.Approver, c.ID, "预算与区财政批复不一致"); err != nil {
		t.Fatal(err)
	}
	in.Budget = "12000"
	if _, err := e.App.UpdateDraft(ctx, e.Maker, c.ID, in); err != nil {
		t.Fatal(err)
	}
	in.Tiers = []app.TierInput{{Face: "30", Threshold: "100", Quantity: "300"}}
	in.Budget = "9000" // the second edit wins
	if _, err := e.App.UpdateDraft(ctx, e.Maker, c.ID, in); err != nil {
		t.Fatal(err)
	}
	if err := e.App.SubmitCampaign(ctx, e.Maker, c.ID); err != nil {
		t.Fatal(err)
	}
	list, err := e.App.ApprovalChecklist(ctx, e.Approver, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []app.FieldChange{{Field: "budget", Before: "10000.00", After: "9000.00"}, {Field: "tiers", Before: "满100减30 × 100", After: "满100减30 × 300"}}
	if !list.Resubmitted || !slices.Equal(list.Changes, want) {
		t.Fatalf("changes since the last submission: resubmitted %v, %+v; want %+v", list.Resubmitted, list.Changes, want)
	}
	// ¥9,000 committed of a ¥9,000 budget: no budget warning; merchants
	// exist (the test's merchant is a restaurant in 渝中).
	if list.CommittedBP != 10000 || slices.Contains(list.Warnings, "budget_unused") || list.Merchants == 0 {
		t.Fatalf("checklist: committed %d bp, warnings %v, merchants %d", list.CommittedBP, list.Warnings, list.Merchants)
	}

	if err := e.App.ApproveCampaign(ctx, e.Approver, c.ID, "  "); app.ErrorReason(err) != "opinion_required" {
		t.Fatalf("an approval without an opinion: %v, want opinion_required", err)
	}
	if err := e.App.ApproveCampaign(ctx, e.Approver, c.ID, "同意，预算已核减。"); err != nil {
		t.Fatal(err)
	}
	entries, err := e.Store.AuditLog(ctx, app.AuditFilter{Entity: "campaign", EntityID: c.ID, Action: "campaign.approve", Limit: 5})
	if err != nil || len(entries) != 1 || entries[0].AfterJSON != `{"opinion":"同意，预算已核减。","status":"approved"}` {
		t.Fatalf("the approval's audit record: %v %+v", err, entries)
	}
}
