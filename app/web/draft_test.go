package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"cqvoucher/app/apptest"
)

func TestDraftEditRejectAndResubmit(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	maker, approver := officerToken(t, e, e.Maker), officerToken(t, e, e.Approver)
	r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", maker, campaignBody(e, nil))
	id := int64(r.Body["id"].(float64))
	path := fmt.Sprintf("/api/v1/officer/campaigns/%d", id)

	// A draft changes freely: one tier instead of two, a smaller budget.
	edited := campaignBody(e, func(b map[string]any) {
		b["budget"] = "10000"
		b["tiers"] = []map[string]string{{"face": "25", "threshold": "100", "quantity": "400"}}
	})
	if r := e.API(t, http.MethodPut, path, maker, edited); r.Status != 200 || r.Body["budget_fen"].(float64) != 1000000 {
		t.Fatalf("edit draft: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM tiers WHERE campaign_id = ?`, id); n != 1 {
		t.Fatalf("tiers after edit = %d, want 1", n)
	}
	// Bad input on an edit is refused and changes nothing.
	bad := campaignBody(e, func(b map[string]any) { b["budget"] = "1" })
	if r := e.API(t, http.MethodPut, path, maker, bad); r.Status != 422 {
		t.Fatalf("bad edit: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT budget_fen FROM campaigns WHERE id = ?`, id); n != 1000000 {
		t.Fatalf("a refused edit changed the budget to %d", n)
	}

	e.API(t, http.MethodPost, path+"/submit", maker, nil)
	if r := e.API(t, http.MethodPut, path, maker, edited); r.Status != 409 || r.Reason() != "not_draft" {
		t.Fatalf("edit while submitted: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path+"/reject", approver, map[string]string{"reason": "预算过高"}); r.Status != 200 || r.Body["rejection_reason"] != "预算过高" {
		t.Fatalf("reject: %d %s", r.Status, r.Raw)
	}
	// A rejected campaign is edited back into a draft and submitted again.
	if r := e.API(t, http.MethodPut, path, maker, edited); r.Status != 200 || r.Body["status"] != "draft" || r.Body["rejection_reason"] != nil {
		t.Fatalf("edit after rejection: %d %s", r.Status, r.Raw)
	}
	e.API(t, http.MethodPost, path+"/submit", maker, nil)
	if r := e.API(t, http.MethodPost, path+"/approve", approver, nil); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPut, path, maker, edited); r.Status != 409 {
		t.Fatalf("an approved campaign was edited: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'campaign' AND entity_id = ? AND action = 'campaign.edit'`, id); n != 2 {
		t.Fatalf("audit rows for edits = %d, want 2", n)
	}
}
