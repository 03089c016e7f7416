package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// officerToken opens an officer session directly in the store: sign-in
// with password and TOTP (each code accepted once) has tests of its own.
func officerToken(t *testing.T, e *apptest.Env, o app.Officer) string {
	t.Helper()
	return e.Session(t, app.KindOfficer, o.ID, 8*time.Hour)
}

func campaignBody(e *apptest.Env, mod func(map[string]any)) map[string]any {
	now := e.Clock.Now()
	b := map[string]any{
		"name": "跟着赛事去旅行·体育消费季", "district": "500103", "category": "sports", "budget": "50,000",
		"tiers":        []map[string]string{{"face": "20", "threshold": "100", "quantity": "1000"}, {"face": "50", "threshold": "0", "quantity": "200"}},
		"claim_starts": now.Add(time.Hour).In(app.Shanghai).Format("2006-01-02T15:04"),
		"claim_ends":   now.Add(72 * time.Hour).In(app.Shanghai).Format("2006-01-02T15:04"),
		"valid_days":   "7", "per_resident_limit": "3",
	}
	if mod != nil {
		mod(b)
	}
	return b
}

func TestCampaignValidation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	tok := officerToken(t, e, e.Maker)
	past := e.Clock.Now().Add(-48 * time.Hour).In(app.Shanghai).Format("2006-01-02T15:04")
	for _, tc := range []struct {
		name, field, reason string
		mod                 func(map[string]any)
	}{
		{"budget below Σ face × quantity", "budget", "budget_below_committed", func(b map[string]any) { b["budget"] = "29999.99" }},
		{"budget not money", "budget", "money_format", func(b map[string]any) { b["budget"] = "5e4" }},
		{"threshold below face", "tiers.0.threshold", "threshold_below_face", func(b map[string]any) {
			b["tiers"] = []map[string]string{{"face": "30", "threshold": "20", "quantity": "10"}}
		}},
		{"zero quantity", "tiers.0.quantity", "quantity_range", func(b map[string]any) {
			b["tiers"] = []map[string]string{{"face": "30", "threshold": "100", "quantity": "0"}}
		}},
		{"absurd quantity", "tiers.0.quantity", "quantity_range", func(b map[string]any) {
			b["tiers"] = []map[string]string{{"face": "30", "threshold": "100", "quantity": "99999999999"}}
		}},
		{"no tiers", "tiers", "tiers_required", func(b map[string]any) { b["tiers"] = []map[string]string{} }},
		{"end before start", "claim_ends", "end_before_start", func(b map[string]any) { b["claim_ends"], b["claim_starts"] = b["claim_starts"], b["claim_ends"] }},
		{"ends in the past", "claim_ends", "in_the_past", func(b map[string]any) { b["claim_ends"] = past; b["claim_starts"] = "2020-01-01T10:00" }},
		{"not a time", "claim_starts", "time_format", func(b map[string]any) { b["claim_starts"] = "tomorrow" }},
		{"unknown district", "district", "unknown_district", func(b map[string]any) { b["district"] = "999999" }},
		{"another district", "district", "district_not_yours", func(b map[string]any) { b["district"] = "500105" }},
		{"unknown category", "categories", "unknown_category", func(b map[string]any) { b["category"] = "casino" }},
		{"no name", "name", "required", func(b map[string]any) { b["name"] = "  " }},
		{"limit zero", "per_resident_limit", "limit_range", func(b map[string]any) { b["per_resident_limit"] = "0" }},
		{"validity absurd", "valid_days", "valid_days_range", func(b map[string]any) { b["valid_days"] = "10000" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", tok, campaignBody(e, tc.mod))
			fields, _ := r.Body["error"].(map[string]any)["fields"].(map[string]any)
			if r.Status != 422 || fields[tc.field] != tc.reason {
				t.Fatalf("%d %s, want field %s: %s", r.Status, r.Raw, tc.field, tc.reason)
			}
		})
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM campaigns`); n != 0 {
		t.Fatalf("refused input stored %d campaigns", n)
	}
	r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", tok, campaignBody(e, nil))
	if r.Status != 201 || r.Body["budget_fen"].(float64) != 5000000 || r.Body["status"] != "draft" {
		t.Fatalf("valid campaign: %d %s", r.Status, r.Raw)
	}
}

func TestApprovalNeedsASecondOfficerOfTheDistrict(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	maker := officerToken(t, e, e.Maker)
	approver := officerToken(t, e, e.Approver)
	selfApprover := officerToken(t, e, e.NewOfficer(t, "both", "500103", true))
	jiangbei := officerToken(t, e, e.NewOfficer(t, "jiangbei", "500105", true))
	city := officerToken(t, e, e.NewOfficer(t, "city", app.CityCode, true))

	created := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", selfApprover, campaignBody(e, nil))
	id := int64(created.Body["id"].(float64))
	path := func(action string) string { return fmt.Sprintf("/api/v1/officer/campaigns/%d%s", id, action) }

	if r := e.API(t, http.MethodPost, path("/approve"), approver, nil); r.Status != 409 || r.Reason() != "not_submitted" {
		t.Fatalf("approve a draft: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path("/submit"), selfApprover, nil); r.Status != 200 || r.Body["status"] != "submitted" {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path("/approve"), selfApprover, nil); r.Status != 403 || r.Reason() != "approve_own" {
		t.Fatalf("maker approves own: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path("/approve"), maker, nil); r.Status != 403 || r.Reason() != "no_approval_right" {
		t.Fatalf("officer without approval right: %d %s", r.Status, r.Raw)
	}
	// Another district neither sees nor approves it: it does not exist for them.
	for _, p := range []string{"", "/approve", "/submit"} {
		method := http.MethodPost
		if p == "" {
			method = http.MethodGet
		}
		if r := e.API(t, method, path(p), jiangbei, nil); r.Status != 404 {
			t.Fatalf("other district %s %s: %d %s", method, p, r.Status, r.Raw)
		}
	}
	if r := e.API(t, http.MethodGet, "/api/v1/officer/campaigns", jiangbei, nil); len(r.Body["campaigns"].([]any)) != 0 {
		t.Fatalf("other district lists: %s", r.Raw)
	}
	if r := e.API(t, http.MethodGet, path(""), city, nil); r.Status != 200 {
		t.Fatalf("city admin sees all: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, path("/approve"), approver, map[string]string{"opinion": "同意"}); r.Status != 200 || r.Body["status"] != "approved" || r.Body["phase"] != "scheduled" {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, path("/approve"), city, nil); r.Status != 409 {
		t.Fatalf("approve twice: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(time.Hour)
	if r := e.API(t, http.MethodGet, "/api/v1/campaigns/live", "", nil); len(r.Body["campaigns"].([]any)) != 1 {
		t.Fatalf("approved campaign is not live at its start: %s", r.Raw)
	}
}

func TestEveryPrivateRouteNeedsItsOwnSignIn(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	_, resident := e.ResidentSession(t, "13800138000")
	cashier := e.CashierSession(t, e.Cashier)
	officer := officerToken(t, e, e.Maker)
	routes := []struct {
		method, path, owner string
	}{
		{"GET", "/api/v1/officer/campaigns", "officer"},
		{"POST", "/api/v1/officer/campaigns", "officer"},
		{"GET", "/api/v1/officer/campaigns/1", "officer"},
		{"POST", "/api/v1/officer/campaigns/1/submit", "officer"},
		{"POST", "/api/v1/officer/campaigns/1/approve", "officer"},
		{"POST", "/api/v1/resident/campaigns/1/claims", "resident"},
		{"GET", "/api/v1/resident/vouchers", "resident"},
		{"POST", "/api/v1/cashier/inspect", "cashier"},
		{"POST", "/api/v1/cashier/redemptions", "cashier"},
	}
	tokens := map[string]string{"officer": officer, "resident": resident, "cashier": cashier, "nobody": ""}
	for _, rt := range routes {
		for who, tok := range tokens {
			if who == rt.owner {
				continue
			}
			r := e.API(t, rt.method, rt.path, tok, map[string]any{})
			if r.Status != 401 {
				t.Errorf("%s %s as %s: %d, want 401", rt.method, rt.path, who, r.Status)
			}
		}
	}
}
