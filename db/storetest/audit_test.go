package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestAuditAppendsAtOnceChainInOrder: entries appended at the same moment
// (officers signing in together) each get their own row, and the chain
// they make verifies: no two appends read the same head.
func TestAuditAppendsAtOnceChainInOrder(t *testing.T) {
	apptest.EachBackend(t, func(t *testing.T) {
		e := apptest.New(t, apptest.Options{})
		ctx := context.Background()
		before, err := e.Store.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = e.Store.AppendAudit(ctx, app.AuditEntry{At: e.Clock.Now(), Actor: fmt.Sprintf("officer-%d", i),
					Action: "officer.login", Entity: "officer", District: "500103", BeforeJSON: "{}", AfterJSON: "{}"})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		}
		rep, err := e.Store.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Break != nil || rep.Rows != before.Rows+n {
			t.Fatalf("after %d appends at once: %d rows (from %d), break %+v", n, rep.Rows, before.Rows, rep.Break)
		}
	})
}

// TestAuditNamesAndExactAction: the audit page names the campaigns and
// merchants its rows refer to (and leaves out ids it does not know), and
// its filter by action matches that action only, where the API's prefix
// matches every action that begins with it.
func TestAuditNamesAndExactAction(t *testing.T) {
	apptest.EachBackend(t, func(t *testing.T) {
		e := apptest.New(t, apptest.Options{})
		ctx := context.Background()
		c := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝味360碗·火锅季"})
		m := e.NewMerchant(t, "洪崖洞九宫格", "500103", "catering")
		names, err := e.Store.AuditSubjectNames(ctx, "campaign", []int64{c.ID, c.ID + 1000})
		if err != nil || len(names) != 1 || names[c.ID] != "渝味360碗·火锅季" {
			t.Errorf("campaign names: %v, %v", names, err)
		}
		if names, err = e.Store.AuditSubjectNames(ctx, "merchant", []int64{m.ID}); err != nil || names[m.ID] != "洪崖洞九宫格" {
			t.Errorf("merchant names: %v, %v", names, err)
		}
		if names, err = e.Store.AuditSubjectNames(ctx, "voucher", []int64{1}); err != nil || len(names) != 0 {
			t.Errorf("names of a kind without any: %v, %v", names, err)
		}
		for _, a := range []string{app.ActionCampaignApprove, app.ActionCampaignApproveBudget} {
			if err := e.Store.AppendAudit(ctx, app.AuditEntry{At: e.Clock.Now(), ActorID: e.Approver.ID, Actor: e.Approver.Username,
				Action: a, Entity: "campaign", EntityID: c.ID, District: c.District}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(f app.AuditFilter) int {
			f.EntityID, f.Limit = c.ID, 50
			rows, err := e.Store.AuditLog(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(rows)
		}
		exact, prefix := count(app.AuditFilter{ActionIs: app.ActionCampaignApprove}), count(app.AuditFilter{Action: app.ActionCampaignApprove})
		if exact != 2 || prefix != 3 { // LiveCampaign's approval and the one above; and the budget's
			t.Errorf("rows of %s: %d exactly, %d by prefix; want 2 and 3", app.ActionCampaignApprove, exact, prefix)
		}
	})
}
