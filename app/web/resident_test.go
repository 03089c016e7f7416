package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/web"
)

func TestRealNameHoldsOnePerPersonAcrossPhones(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	maker, approver := officerToken(t, e, e.Maker), officerToken(t, e, e.Approver)
	r := e.API(t, http.MethodPost, "/api/v1/officer/campaigns", maker, campaignBody(e, func(b map[string]any) {
		b["claim_starts"] = e.Clock.Now().In(app.Shanghai).Format("2006-01-02T15:04")
		b["per_resident_limit"], b["require_real_name"] = "1", "1"
	}))
	id := int64(r.Body["id"].(float64))
	e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/campaigns/%d/submit", id), maker, nil)
	e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/campaigns/%d/approve", id), approver, map[string]string{"opinion": "同意"})
	tier := int64(r.Body["tiers"].([]any)[0].(map[string]any)["id"].(float64))
	claim := func(tok string) apptest.Response {
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", id), tok, map[string]any{"tier_id": tier})
	}
	verify := func(tok, idNumber string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/identity", tok, map[string]string{"id_number": idNumber})
	}
	_, phoneA := e.ResidentSession(t, "13800000001")
	_, phoneB := e.ResidentSession(t, "13900000002")

	if r := claim(phoneA); r.Status != 409 || r.Reason() != "real_name_required" {
		t.Fatalf("claim before the real-name step: %d %s", r.Status, r.Raw)
	}
	if r := verify(phoneA, "110105194912310021"); r.Status != 422 || r.Reason() != "id_invalid" {
		t.Fatalf("bad checksum: %d %s", r.Status, r.Raw)
	}
	if r := verify(phoneA, "11010519491231002x"); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Raw)
	}
	if r := claim(phoneA); r.Status != 201 {
		t.Fatalf("claim after verifying: %d %s", r.Status, r.Raw)
	}
	// The same person with a second phone: the ID is taken, so no second voucher.
	if r := verify(phoneB, "11010519491231002X"); r.Status != 409 || r.Reason() != "id_bound_elsewhere" {
		t.Fatalf("same ID on a second phone: %d %s", r.Status, r.Raw)
	}
	if r := claim(phoneB); r.Status != 409 || r.Reason() != "real_name_required" {
		t.Fatalf("second phone claims: %d %s", r.Status, r.Raw)
	}
	if r := verify(phoneA, "370101190102039973"); r.Status != 409 || r.Reason() != "id_already_verified" {
		t.Fatalf("rebinding an account to another ID: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE campaign_id = ?`, id); n != 1 {
		t.Fatalf("vouchers = %d, want 1", n)
	}
	// Only a keyed hash is stored: neither the number nor its plain SHA-256.
	if n := e.Count(t, `SELECT COUNT(*) FROM residents WHERE id_hash LIKE '%1101051949%' OR id_hash IS NULL AND phone = '13800000001'`); n != 0 {
		t.Fatal("the ID number is stored in clear")
	}
}

func TestFailedSMSCanBeRetriedAtOnce(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	e.SMS.Fail.Store(true)
	send := func() apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": "13800138000", "consent": true})
	}
	if r := send(); r.Status != 500 || r.Reason() != "sms_failed" {
		t.Fatalf("failed send: %d %s", r.Status, r.Raw)
	}
	e.SMS.Fail.Store(false)
	if r := send(); r.Status != 202 {
		t.Fatalf("retry after a failed send must not wait for the resend interval: %d %s", r.Status, r.Raw)
	}
}

func TestSMSRateLimitIgnoresForgedForwardedFor(t *testing.T) {
	cfg := web.DefaultConfig()
	cfg.SMSPerMinute = 3
	e := apptest.New(t, apptest.Options{Web: &cfg})
	limited := 0
	for i := 0; i < 10; i++ {
		// A bot walks through numbers and forges a new address each time.
		r := e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": fmt.Sprintf("1380000%04d", i), "consent": true},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i), "X-Real-IP", fmt.Sprintf("198.51.100.%d", i))
		if r.Status == 429 {
			limited++
		}
	}
	if limited != 7 {
		t.Fatalf("%d of 10 sends limited, want 7", limited)
	}
	// A full minute on the App's clock refills the three sends, no more.
	e.Clock.Advance(time.Minute)
	limited = 0
	for i := 10; i < 14; i++ {
		r := e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": fmt.Sprintf("1380000%04d", i), "consent": true})
		if r.Status == 429 {
			limited++
		}
	}
	if limited != 1 {
		t.Fatalf("a minute later %d of 4 sends limited, want 1", limited)
	}
}

func page(t *testing.T, e *apptest.Env, path, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	req.Header.Set("Accept-Language", "zh-CN")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "cqv_resident", Value: cookie})
	}
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	return string(b)
}

func TestResidentPages(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	catering := e.LiveCampaign(t, apptest.CampaignSpec{Name: "渝味360碗"})
	sports := e.LiveCampaign(t, apptest.CampaignSpec{Name: "跟着赛事去旅行", Category: "sports"})
	e.NewMerchant(t, "洪崖洞火锅", "500103", "catering")
	e.NewMerchant(t, "江北火锅", "500105", "catering")

	home := page(t, e, "/m?category=sports", "")
	if !strings.Contains(home, sports.Name) || strings.Contains(home, catering.Name) {
		t.Fatalf("category filter: sports page lists %q", home)
	}
	home = page(t, e, "/m?district=500105", "")
	if strings.Contains(home, catering.Name) {
		t.Fatal("district filter shows a 渝中区 campaign to 江北区")
	}
	where := page(t, e, fmt.Sprintf("/m/campaigns/%d", catering.ID), "")
	if !strings.Contains(where, "洪崖洞火锅") || !strings.Contains(where, "解放碑老火锅") || strings.Contains(where, "江北火锅") {
		t.Fatalf("where to use lists the wrong merchants")
	}
	where = page(t, e, fmt.Sprintf("/m/campaigns/%d?q=洪崖洞", catering.ID), "")
	if !strings.Contains(where, "洪崖洞火锅") || strings.Contains(where, "解放碑老火锅") {
		t.Fatalf("merchant search does not filter")
	}

	// Wallet tabs: one usable, one used, one expired.
	_, tok := e.ResidentSession(t, "13800138000")
	var codes []string
	for _, c := range []app.Campaign{catering, sports, e.LiveCampaign(t, apptest.CampaignSpec{Name: "一日券", ValidDays: 1, Limit: 1})} {
		r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), tok, map[string]any{"tier_id": c.Tiers[0].ID})
		codes = append(codes, r.Body["code"].(string))
	}
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), codes[0], "120", "k"); r.Status != 201 {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	wallet := page(t, e, "/m/wallet?tab=redeemed", tok)
	if !strings.Contains(wallet, "渝味360碗") || !strings.Contains(wallet, "解放碑老火锅") || strings.Contains(wallet, "跟着赛事去旅行") {
		t.Fatalf("used tab: %s", wallet)
	}
	if w := page(t, e, "/m/wallet", tok); !strings.Contains(w, "跟着赛事去旅行") || !strings.Contains(w, "(2)") {
		t.Fatalf("usable tab should list 2 vouchers")
	}
}
