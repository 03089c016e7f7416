package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

func application(mod func(map[string]string)) map[string]string {
	a := map[string]string{
		"name": "十八梯抄手", "uscc": "91350100M000100Y43", "category": "catering", "district": "500103",
		"address": "渝中区十八梯 1 号", "contact_name": "刘芳", "contact_phone": "138 0013 8001",
		"settlement_account": "6222 0212 3456 7890 123", "owner_username": "shibati", "owner_password": "a-long-password",
	}
	if mod != nil {
		mod(a)
	}
	return a
}

func TestMerchantApplicationReviewAndSuspension(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")

	// Bad input is refused with reasons per field and writes nothing.
	r := e.API(t, http.MethodPost, "/api/v1/merchants/applications", "", application(func(a map[string]string) {
		a["uscc"], a["contact_phone"], a["settlement_account"], a["district"] = "123", "12345", "abc", "500000"
	}))
	fields, _ := r.Body["error"].(map[string]any)["fields"].(map[string]any)
	if r.Status != 422 || fields["uscc"] != "uscc_format" || fields["contact_phone"] != "phone_invalid" ||
		fields["settlement_account"] != "account_format" || fields["district"] != "unknown_district" {
		t.Fatalf("bad application: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM merchants WHERE name = '十八梯抄手'`); n != 0 {
		t.Fatal("a refused application was stored")
	}
	// A code that fails its checksum goes to review, flagged.
	flagged := e.API(t, http.MethodPost, "/api/v1/merchants/applications", "", application(func(a map[string]string) {
		a["name"], a["uscc"], a["owner_username"] = "较场口面馆", "91350100M000100Y44", "jcklm"
	}))
	if flagged.Status != 201 || flagged.Body["uscc_checksum_ok"] != false || flagged.Body["status"] != "pending" {
		t.Fatalf("checksum-failing application: %d %s", flagged.Status, flagged.Raw)
	}
	applied := e.API(t, http.MethodPost, "/api/v1/merchants/applications", "", application(nil))
	if applied.Status != 201 {
		t.Fatalf("apply: %d %s", applied.Status, applied.Raw)
	}
	id := int64(applied.Body["id"].(float64))

	// The owner can sign in but not redeem while pending.
	owner := e.API(t, http.MethodPost, "/api/v1/cashier/sessions", "", map[string]string{"username": "shibati", "password": "a-long-password"})
	if owner.Status != 201 {
		t.Fatalf("owner sign-in: %d %s", owner.Status, owner.Raw)
	}
	ownerTok := owner.Body["token"].(string)
	if r := redeem(t, e, ownerTok, v.Code, "150", "p1"); r.Status != 403 || r.Reason() != "merchant_inactive" {
		t.Fatalf("pending merchant redeems: %d %s", r.Status, r.Raw)
	}

	review := func(tok, action, reason string) apptest.Response {
		var body any
		if reason != "" {
			body = map[string]string{"reason": reason}
		}
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/merchants/%d/%s", id, action), tok, body)
	}
	jiangbei := officerToken(t, e, e.NewOfficer(t, "jiangbei", "500105", true))
	auditor := officerToken(t, e, e.NewAuditor(t, "yz-auditor", "500103"))
	maker := officerToken(t, e, e.Maker)
	if r := review(jiangbei, "approve", ""); r.Status != 404 {
		t.Fatalf("another district reviews: %d %s", r.Status, r.Raw)
	}
	if r := review(auditor, "approve", ""); r.Status != 403 || r.Reason() != "read_only" {
		t.Fatalf("an auditor reviews: %d %s", r.Status, r.Raw)
	}
	if r := review(maker, "reject", ""); r.Status != 422 || r.Reason() != "reason_required" {
		t.Fatalf("reject without reason: %d %s", r.Status, r.Raw)
	}
	if r := review(maker, "approve", ""); r.Status != 200 || r.Body["status"] != "approved" {
		t.Fatalf("approve: %d %s", r.Status, r.Raw)
	}
	merchants := e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/merchants", c.ID), maker, nil)
	if !strings.Contains(merchants.Raw, "十八梯抄手") {
		t.Fatalf("approved merchant missing from where-to-use: %s", merchants.Raw)
	}
	// Suspension stops redemptions at once, and the merchant leaves the lists.
	if r := review(maker, "suspend", "投诉核查中"); r.Status != 200 || r.Body["status"] != "suspended" {
		t.Fatalf("suspend: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, ownerTok, v.Code, "150", "p2"); r.Status != 403 || r.Reason() != "merchant_inactive" {
		t.Fatalf("suspended merchant redeems: %d %s", r.Status, r.Raw)
	}
	if m := e.API(t, http.MethodGet, fmt.Sprintf("/api/v1/officer/campaigns/%d/merchants", c.ID), maker, nil); strings.Contains(m.Raw, "十八梯抄手") {
		t.Fatal("a suspended merchant is still listed")
	}
	if r := review(maker, "reinstate", ""); r.Status != 200 {
		t.Fatalf("reinstate: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, ownerTok, v.Code, "150", "p3"); r.Status != 201 {
		t.Fatalf("reinstated merchant redeems: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'merchant' AND entity_id = ?`, id); n != 3 {
		t.Fatalf("audit rows for the merchant = %d, want 3 (approve, suspend, reinstate)", n)
	}
}

func TestOwnerManagesCashiers(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	owner := e.NewOwner(t, e.Merchant, "owner")
	ownerTok := e.CashierSession(t, owner)
	staffTok := e.CashierSession(t, e.Cashier)

	if r := e.API(t, http.MethodPost, "/api/v1/cashier/staff", staffTok, map[string]string{"username": "x1", "name": "x", "password": "0123456789"}); r.Status != 403 || r.Reason() != "owner_only" {
		t.Fatalf("a cashier adds staff: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/cashier/staff", ownerTok, map[string]string{"username": "A", "name": "", "password": "short"}); r.Status != 422 {
		t.Fatalf("bad cashier: %d %s", r.Status, r.Raw)
	}
	added := e.API(t, http.MethodPost, "/api/v1/cashier/staff", ownerTok, map[string]string{"username": "newbie", "name": "新人", "password": "0123456789"})
	if added.Status != 201 || added.Body["role"] != app.CashierStaff {
		t.Fatalf("add: %d %s", added.Status, added.Raw)
	}
	newbie := e.API(t, http.MethodPost, "/api/v1/cashier/sessions", "", map[string]string{"username": "newbie", "password": "0123456789"})
	if newbie.Status != 201 {
		t.Fatalf("new cashier signs in: %d %s", newbie.Status, newbie.Raw)
	}
	newID := int64(added.Body["id"].(float64))
	// Another merchant's owner cannot touch this cashier.
	otherOwner := e.NewOwner(t, e.NewMerchant(t, "别家", "500103", "catering"), "otherowner")
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/staff/%d/remove", newID), e.CashierSession(t, otherOwner), nil); r.Status != 404 {
		t.Fatalf("another owner removes: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/staff/%d/remove", newID), ownerTok, nil); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodGet, "/api/v1/cashier/redemptions", newbie.Body["token"].(string), nil); r.Status != 401 {
		t.Fatalf("a removed cashier's session still works: %d", r.Status)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/cashier/sessions", "", map[string]string{"username": "newbie", "password": "0123456789"}); r.Status != 401 || r.Reason() != "account_disabled" {
		t.Fatalf("a removed cashier signs in: %d %s", r.Status, r.Raw)
	}
}

func TestPOSRedeemsWithAnAPIKey(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 2})
	owner := e.CashierSession(t, e.NewOwner(t, e.Merchant, "boss"))
	if r := e.API(t, http.MethodPost, "/api/v1/cashier/api-keys", e.CashierSession(t, e.Cashier), map[string]string{"label": "x"}); r.Status != 403 {
		t.Fatalf("a cashier makes a key: %d", r.Status)
	}
	made := e.API(t, http.MethodPost, "/api/v1/cashier/api-keys", owner, map[string]string{"label": "收银台 1"})
	key, _ := made.Body["key"].(string)
	if made.Status != 201 || !strings.HasPrefix(key, "cqvpos_") {
		t.Fatalf("create key: %d %s", made.Status, made.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM api_keys WHERE key_hash LIKE '%' || ? || '%'`, key[7:20]); n != 0 {
		t.Fatal("the key is stored in clear")
	}
	if list := e.API(t, http.MethodGet, "/api/v1/cashier/api-keys", owner, nil); strings.Contains(list.Raw, key) {
		t.Fatal("the key's secret is listed again")
	}
	posRedeem := func(apiKey, voucher, idem string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/cashier/redemptions", "", map[string]string{"voucher": voucher, "bill": "150"},
			"X-API-Key", apiKey, "Idempotency-Key", idem)
	}
	v := claimOne(t, e, c, "13800138000")
	if r := posRedeem("cqvpos_forged", v.Code, "a"); r.Status != 401 {
		t.Fatalf("forged key: %d %s", r.Status, r.Raw)
	}
	if r := posRedeem(key, v.Code, "a"); r.Status != 201 {
		t.Fatalf("POS redeem: %d %s", r.Status, r.Raw)
	}
	// The redemption is recorded against the terminal's own account.
	if n := e.Count(t, `SELECT COUNT(*) FROM redemptions r JOIN api_keys k ON k.cashier_id = r.cashier_id`); n != 1 {
		t.Fatalf("redemptions by the terminal = %d", n)
	}
	id := int64(made.Body["id"].(float64))
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/api-keys/%d/revoke", id), owner, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	v2 := claimOne(t, e, c, "13900139000")
	if r := posRedeem(key, v2.Code, "b"); r.Status != 401 {
		t.Fatalf("revoked key redeems: %d %s", r.Status, r.Raw)
	}
}
