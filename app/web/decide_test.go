package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cqvoucher/app/apptest"
)

// TestBudgetRaiseIsConfirmedWithItsFigures: asking for a larger budget and
// approving it each show, before anything is written, the budget as it is,
// as it will be and the difference; only the confirmation's form writes.
// An action with no confirmation page is not found.
func TestBudgetRaiseIsConfirmedWithItsFigures(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Budget: "20000"})
	campaign := fmt.Sprintf("/officer/campaigns/%d", c.ID)
	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	p := maker.do(t, http.MethodGet, campaign+"/confirm/budget?budget=25,000", nil)
	if p.status != 200 || !strings.Contains(p.body, "¥20,000.00") || !strings.Contains(p.body, "¥25,000.00") || !strings.Contains(p.body, "¥5,000.00") {
		t.Fatalf("the raise's confirmation: %d\n%s", p.status, p.body)
	}
	if got, _ := e.Store.Campaign(context.Background(), c.ID); got.PendingBudgetFen != nil {
		t.Fatal("the confirmation page asked for the raise")
	}
	if p := maker.do(t, http.MethodPost, campaign+"/budget", url.Values{"budget": {"25,000"}}); p.status != http.StatusSeeOther {
		t.Fatalf("the confirmed raise: %d %s", p.status, p.body)
	}
	approver := authzNewBrowser(t, e)
	approver.setCookie("cqv_officer", officerToken(t, e, e.Approver))
	p = approver.do(t, http.MethodGet, campaign+"/confirm/budget/approve", nil)
	if p.status != 200 || !strings.Contains(p.body, "批准后立即生效") || !strings.Contains(p.body, "¥5,000.00") {
		t.Fatalf("the raise's approval confirmation: %d\n%s", p.status, p.body)
	}
	if p := approver.do(t, http.MethodPost, campaign+"/budget/approve", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("the confirmed approval: %d %s", p.status, p.body)
	}
	if got, _ := e.Store.Campaign(context.Background(), c.ID); got.BudgetFen != 2_500_000 {
		t.Fatalf("budget after the approval: %d fen", got.BudgetFen)
	}
	if p := approver.do(t, http.MethodGet, campaign+"/confirm/submit", nil); p.status != http.StatusNotFound {
		t.Fatalf("a confirmation page of an action without one: %d", p.status)
	}
}
