package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

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
	if len(rows) != 2 || rows[0][7] != "应付补贴（元）" || rows[1][2] != e.Merchant.Name || rows[1][7] != "¥60.00" {
		t.Fatalf("XLSX rows: %v", rows)
	}
}
