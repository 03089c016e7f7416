package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

func download(t *testing.T, e *apptest.Env, path, bearer string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	// Pages take the session from a cookie, not a bearer header.
	for _, name := range []string{"cqv_officer", "cqv_cashier"} {
		req.AddCookie(&http.Cookie{Name: name, Value: bearer})
	}
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), b
}

func TestSettlementStatementsAndPayment(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 3})
	cashier := e.CashierSession(t, e.Cashier)
	owner := e.CashierSession(t, e.NewOwner(t, e.Merchant, "boss"))
	officer := officerToken(t, e, e.Maker)

	// Day 1 (25 Nov): three redemptions, one of them reversed.
	var redIDs []int64
	for i, bill := range []string{"150", "120.50", "300"} {
		v := claimOne(t, e, c, fmt.Sprintf("1380000000%d", i))
		r := redeem(t, e, cashier, v.Code, bill, fmt.Sprintf("k%d", i))
		redIDs = append(redIDs, int64(r.Body["redemption"].(map[string]any)["id"].(float64)))
	}
	e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/cashier/redemptions/%d/reverse", redIDs[2]), cashier, nil)

	pay := func(day string) apptest.Response {
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/settlements/%d/%s/pay", e.Merchant.ID, day), officer, nil)
	}
	if r := pay("2026-11-25"); r.Status != 409 || r.Reason() != "day_not_closed" {
		t.Fatalf("paying today: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(24 * time.Hour)
	officer = officerToken(t, e, e.Maker) // officers' sessions last a working day
	r := e.API(t, http.MethodGet, "/api/v1/officer/settlements?from=2026-11-25&to=2026-11-25", officer, nil)
	sts, _ := r.Body["statements"].([]any)
	if len(sts) != 1 {
		t.Fatalf("statements: %s", r.Raw)
	}
	st := sts[0].(map[string]any)
	if st["redemptions"] != 2.0 || st["reversals"] != 1.0 || st["subsidy_payable_fen"] != 6000.0 || st["consumption_fen"] != 27050.0 {
		t.Fatalf("day 1 statement: %v", st)
	}
	if r := pay("2026-11-25"); r.Status != 200 || r.Body["paid_at"] == nil || r.Body["subsidy_payable_fen"] != 6000.0 {
		t.Fatalf("pay: %d %s", r.Status, r.Raw)
	}
	if r := pay("2026-11-25"); r.Status != 409 || r.Reason() != "already_paid" {
		t.Fatalf("pay twice: %d %s", r.Status, r.Raw)
	}
	if r := pay("2026-11-20"); r.Status != 404 || r.Reason() != "statement_empty" {
		t.Fatalf("pay an empty day: %d %s", r.Status, r.Raw)
	}
	jiangbei := officerToken(t, e, e.NewOfficer(t, "jb", "500105", true))
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/settlements/%d/2026-11-25/pay", e.Merchant.ID), jiangbei, nil); r.Status != 404 {
		t.Fatalf("another district pays: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'settlement.pay'`); n != 1 {
		t.Fatalf("audit rows for payment = %d", n)
	}

	// The owner sees the statement; a cashier does not.
	if r := e.API(t, http.MethodGet, "/api/v1/cashier/statements?from=2026-11-25&to=2026-11-26", cashier, nil); r.Status != 403 {
		t.Fatalf("a cashier reads statements: %d", r.Status)
	}
	r = e.API(t, http.MethodGet, "/api/v1/cashier/statements?from=2026-11-25&to=2026-11-26", owner, nil)
	if r.Status != 200 || len(r.Body["statements"].([]any)) != 1 {
		t.Fatalf("owner statements: %d %s", r.Status, r.Raw)
	}

	// Exports: CSV with a byte-order mark and Chinese headers; XLSX readable.
	status, ctype, body := download(t, e, "/merchant/statements?from=2026-11-25&to=2026-11-25&format=csv", owner)
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !bytes.HasPrefix(body, []byte("\ufeff日期,商户编号,商户")) || !strings.Contains(string(body), "60.00") {
		t.Fatalf("CSV: %d %s %q", status, ctype, body)
	}
	status, _, body = download(t, e, "/officer/settlements?from=2026-11-25&to=2026-11-25&format=xlsx", officer)
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if status != 200 || err != nil {
		t.Fatalf("XLSX: %d %v", status, err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	if len(rows) != 2 || rows[0][7] != "应付补贴（元）" || rows[1][2] != e.Merchant.Name || rows[1][7] != "¥60.00" || rows[1][10] != "渝中区" {
		t.Fatalf("XLSX rows: %v", rows)
	}
}

// A campaign's redemptions are paid by the district that funds it, not by
// the merchant's: a 渝中 campaign redeemed at a 江北 merchant appears in
// 渝中's statements and only 渝中's officers pay it; 江北's officers see and
// pay only what their own campaigns owe the same merchant that day.
func TestStatementsAreSettledByTheFundingDistrict(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	jbMerchant := e.NewMerchant(t, "观音桥小面", "500105", "catering")
	jbCashier := e.CashierSession(t, e.NewCashier(t, jbMerchant, "jb-till"))
	city := e.NewOfficer(t, "city-maker", app.CityCode, false)
	now := e.Clock.Now()
	yuzhong := e.Approved(t, city, e.Approver, app.CampaignInput{
		Name: "渝中·观音桥联动", District: "500103", Category: "catering", Budget: "100000",
		Tiers:       []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}},
		ClaimStarts: now.Format(time.RFC3339), ClaimEnds: now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		ValidDays: "7", PerResidentLimit: "1", Include: fmt.Sprint(jbMerchant.ID),
	})
	jiangbei := e.LiveCampaign(t, apptest.CampaignSpec{District: "500105", Tiers: []app.TierInput{{Face: "15", Threshold: "50", Quantity: "100"}}})
	if r := redeem(t, e, jbCashier, claimOne(t, e, yuzhong, "13800000001").Code, "150", "yz"); r.Status != 201 {
		t.Fatalf("redeem the 渝中 voucher at 江北: %d %s", r.Status, r.Raw)
	}
	if r := redeem(t, e, jbCashier, claimOne(t, e, jiangbei, "13800000002").Code, "80", "jb"); r.Status != 201 {
		t.Fatalf("redeem the 江北 voucher: %d %s", r.Status, r.Raw)
	}
	e.Clock.Advance(24 * time.Hour)

	yzOfficer := officerToken(t, e, e.Maker)
	jbOfficer := officerToken(t, e, e.NewOfficer(t, "jb-finance", "500105", true))
	owes := func(tok string) []map[string]any {
		t.Helper()
		r := e.API(t, http.MethodGet, "/api/v1/officer/settlements?from=2026-11-25&to=2026-11-25", tok, nil)
		var out []map[string]any
		for _, st := range r.Body["statements"].([]any) {
			out = append(out, st.(map[string]any))
		}
		return out
	}
	one := func(who string, sts []map[string]any, funder string, subsidy float64) {
		t.Helper()
		if len(sts) != 1 || sts[0]["merchant_id"] != float64(jbMerchant.ID) || sts[0]["district"] != "500105" ||
			sts[0]["funding_district"] != funder || sts[0]["subsidy_payable_fen"] != subsidy {
			t.Fatalf("%s sees %v, want one statement of %v fen funded by %s", who, sts, subsidy, funder)
		}
	}
	one("渝中", owes(yzOfficer), "500103", 3000)
	one("江北", owes(jbOfficer), "500105", 1500)

	pay := func(tok, funder string) apptest.Response {
		path := fmt.Sprintf("/api/v1/officer/settlements/%d/2026-11-25/pay", jbMerchant.ID)
		if funder != "" {
			path += "?funding_district=" + funder
		}
		return e.API(t, http.MethodPost, path, tok, nil)
	}
	if r := pay(jbOfficer, "500103"); r.Status != 404 || r.Reason() != "statement_empty" {
		t.Fatalf("江北 pays what 渝中 owes: %d %s", r.Status, r.Raw)
	}
	if r := pay(jbOfficer, ""); r.Status != 200 || r.Body["funding_district"] != "500105" || r.Body["subsidy_payable_fen"] != 1500.0 {
		t.Fatalf("江北 pays its own: %d %s", r.Status, r.Raw)
	}
	if sts := owes(yzOfficer); sts[0]["paid_at"] != nil {
		t.Fatalf("江北's payment marked 渝中's statement paid: %v", sts)
	}
	// 渝中 pays through the page: the row's button names the fund, and leads
	// to a confirmation of that one statement.
	page := authzNewBrowser(t, e)
	page.setCookie("cqv_officer", yzOfficer)
	confirm := fmt.Sprintf("/officer/settlements/pay?merchant_id=%d&amp;from=2026-11-25&amp;to=2026-11-25&amp;funding_district=500103", jbMerchant.ID)
	if p := page.do(t, http.MethodGet, "/officer/settlements?from=2026-11-25&to=2026-11-25", nil); p.status != 200 ||
		!strings.Contains(p.body, confirm) || !strings.Contains(p.body, "观音桥小面") {
		t.Fatalf("渝中's settlement page: %d\n%s", p.status, p.body)
	}
	if p := page.do(t, http.MethodGet, strings.ReplaceAll(confirm, "&amp;", "&"), nil); p.status != 200 ||
		!strings.Contains(p.body, "将由渝中区资金支付 2026-11-25 至 2026-11-25 的 1 张对账单，共 1 户商户，合计 ¥30.00") {
		t.Fatalf("渝中's confirmation: %d\n%s", p.status, p.body)
	}
	if p := page.do(t, http.MethodPost, "/officer/settlements/pay", url.Values{"funding_district": {"500103"}, "from": {"2026-11-25"},
		"to": {"2026-11-25"}, "merchant_id": {fmt.Sprint(jbMerchant.ID)}, "expect_statements": {"1"}, "expect_fen": {"3000"}}); p.status != http.StatusSeeOther {
		t.Fatalf("渝中 pays its own through the page: %d %s", p.status, p.body)
	}
	if sts := owes(yzOfficer); sts[0]["paid_at"] == nil || sts[0]["subsidy_payable_fen"] != 3000.0 {
		t.Fatalf("渝中's statement after paying: %v", sts)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action IN ('settlement.pay', 'settlement.pay_batch') AND district_code = '500103'`); n != 1 {
		t.Fatalf("渝中's payment audited in 渝中 %d times", n)
	}
	// The merchant's owner sees both funds' statements of the day.
	owner := e.CashierSession(t, e.NewOwner(t, jbMerchant, "jb-boss"))
	if r := e.API(t, http.MethodGet, "/api/v1/cashier/statements?from=2026-11-25&to=2026-11-25", owner, nil); len(r.Body["statements"].([]any)) != 2 {
		t.Fatalf("owner statements: %s", r.Raw)
	}
	// 渝中's export names the merchant's district and the fund apart.
	status, body := getPage(t, e, "/officer/settlements?from=2026-11-25&to=2026-11-25&format=csv", yzOfficer)
	if status != 200 || !bytes.Contains(body, []byte("观音桥小面,江北区,,1,0,30.00,150.00,2026-11-26 10:00,渝中区")) {
		t.Fatalf("CSV of 渝中: %d %s", status, body)
	}
	// The export carried bank accounts: it is in the audit log, by whom and of what.
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'export.settlements' AND after_json LIKE '%2026-11-25%'`); n != 1 {
		t.Errorf("settlement exports recorded in the audit log: %d, want 1", n)
	}
}
