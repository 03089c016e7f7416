package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// TestAPIListsAreArraysWhenEmpty reads every list the API has while there
// is nothing in it: a campaign just approved, no presses, no redemptions,
// no refusals, a filter that matches nothing. openapi.json promises arrays;
// e.API checks every answer against it, so a null where [] is promised
// fails here (the live page's script broke on exactly that).
func TestAPIListsAreArraysWhenEmpty(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	officer := officerToken(t, e, e.Maker)
	admin := officerToken(t, e, e.NewOfficerRole(t, "sysadmin", app.RoleSystemAdmin, app.CityCode))
	idle := officerToken(t, e, e.NewOfficer(t, "jiangbei", "500105", false)) // a district with no campaign at all
	cashier := e.CashierSession(t, e.Cashier)
	owner := e.CashierSession(t, e.NewOwner(t, e.Merchant, "boss"))
	_, resident := e.ResidentSession(t, "13800138000")

	for _, call := range []struct{ bearer, path string }{
		{"", "/api/v1/campaigns/live"},
		{officer, "/api/v1/officer/campaigns"},
		{officer, fmt.Sprintf("/api/v1/officer/campaigns/%d", c.ID)},
		{officer, fmt.Sprintf("/api/v1/officer/campaigns/%d/merchants", c.ID)},
		{officer, fmt.Sprintf("/api/v1/officer/campaigns/%d/dashboard", c.ID)},
		{officer, fmt.Sprintf("/api/v1/officer/campaigns/%d/live", c.ID)},
		{officer, "/api/v1/officer/audit?actor=nobody"},
		{officer, "/api/v1/officer/compare"},
		{officer, "/api/v1/officer/settlements?from=2026-11-25&to=2026-11-25"},
		{officer, "/api/v1/officer/merchants"},
		{admin, "/api/v1/officer/officers"},
		{idle, "/api/v1/officer/campaigns"},
		{idle, "/api/v1/officer/compare"},
		{idle, "/api/v1/officer/merchants"},
		{cashier, "/api/v1/cashier/redemptions"},
		{owner, "/api/v1/cashier/statements?from=2026-11-25&to=2026-11-25"},
		{owner, "/api/v1/cashier/staff"},
		{owner, "/api/v1/cashier/api-keys"},
		{resident, "/api/v1/resident/vouchers"},
	} {
		if r := e.API(t, http.MethodGet, call.path, call.bearer, nil); r.Status != http.StatusOK {
			t.Errorf("GET %s: %d %s", call.path, r.Status, r.Raw)
		}
	}

	// The three that were null, spelled out.
	r := e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/live", c.ID), officer, nil)
	if reasons, ok := r.Body["live"].(map[string]any)["reasons"].([]any); !ok || len(reasons) != 0 {
		t.Errorf("live.reasons with no refusals: %s", r.Raw)
	}
	r = e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/dashboard", c.ID), officer, nil)
	if signals, ok := r.Body["signals"].([]any); !ok || len(signals) != 0 {
		t.Errorf("signals of a quiet campaign: %s", r.Raw)
	}
	r = e.API(t, http.MethodGet, "/api/v1/officer/audit?actor=nobody", officer, nil)
	if entries, ok := r.Body["entries"].([]any); !ok || len(entries) != 0 {
		t.Errorf("audit entries matching nothing: %s", r.Raw)
	}
}
