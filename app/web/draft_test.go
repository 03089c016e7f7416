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
	if r := e.API(t, http.MethodPost, path+"/approve", approver, map[string]string{"opinion": "同意"}); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPut, path, maker, edited); r.Status != 409 {
		t.Fatalf("an approved campaign was edited: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'campaign' AND entity_id = ? AND action = 'campaign.edit'`, id); n != 2 {
		t.Fatalf("audit rows for edits = %d, want 2", n)
	}
}

func TestDailyDropsBeginAtTheFirstDropAfterClaimsOpen(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	maker := officerToken(t, e, e.Maker)
	// Claims open at 12:00 Shanghai; drops are at 10:00: the first is tomorrow's.
	body := campaignBody(e, func(b map[string]any) {
		b["claim_starts"], b["budget"] = "2026-11-25T12:00", "100000"
		b["release_mode"], b["drop_daily"], b["drop_days"] = "drops", "10:00", "2"
	})
	r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", maker, body)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := int64(r.Body["id"].(float64))
	first := e.Count(t, `SELECT COUNT(*) FROM drops WHERE campaign_id = ? AND opens_at < '2026-11-26 02:00:00'`, id)
	all := e.Count(t, `SELECT COUNT(DISTINCT opens_at) FROM drops WHERE campaign_id = ?`, id)
	if first != 0 || all != 2 {
		t.Fatalf("drops before 26 Nov 10:00 = %d, distinct drop times = %d; want 0 and 2", first, all)
	}
}

func TestYesNoFieldsRefuseNonsense(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	maker := officerToken(t, e, e.Maker)
	for _, field := range []string{"drop_rollover", "recycle_expired"} {
		body := campaignBody(e, func(b map[string]any) {
			b["release_mode"], b["drop_daily"], b["drop_days"] = "drops", "10:00", "2"
			b[field] = "maybe"
		})
		r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", maker, body)
		fields, _ := r.Body["error"].(map[string]any)["fields"].(map[string]any)
		if r.Status != 422 || fields[field] != "unknown_mode" {
			t.Errorf("%s=maybe: %d %s", field, r.Status, r.Raw)
		}
	}
}
