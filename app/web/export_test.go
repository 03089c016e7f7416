package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// exportAccount is a 19-digit bank card number, as merchants are paid to.
const exportAccount = "6222021234567890123"

// exportMerchant adds an approved merchant with a settlement account and a
// cashier session there.
func exportMerchant(t *testing.T, e *apptest.Env) (app.Merchant, string) {
	t.Helper()
	hash, err := app.HashPassword(apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	m := app.Merchant{Name: "洪崖洞火锅", District: "500103", Category: "catering", Status: app.MerchantApproved,
		CreatedAt: e.Clock.Now(), SettlementAccount: exportAccount}
	owner := app.Cashier{Username: "hyd-owner", Name: "hyd-owner", PasswordHash: hash, CreatedAt: e.Clock.Now(), Role: app.CashierOwner}
	if err := e.App.SealMerchant(&m); err != nil { // the account is stored only sealed
		t.Fatal(err)
	}
	if err := e.Store.CreateMerchantWithOwner(context.Background(), &m, &owner); err != nil {
		t.Fatal(err)
	}
	return m, e.CashierSession(t, e.NewCashier(t, m, "hyd-cashier"))
}

// exportSheet downloads an XLSX export and opens it.
func exportSheet(t *testing.T, e *apptest.Env, path, bearer string) (*excelize.File, string) {
	t.Helper()
	status, body := getPage(t, e, path, bearer)
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if status != http.StatusOK || err != nil {
		t.Fatalf("XLSX: %d %v %.300q", status, err, body)
	}
	t.Cleanup(func() { f.Close() })
	return f, f.GetSheetName(0)
}

// exportCell is a cell as a spreadsheet shows it, its stored value and
// whether it is stored as text.
func exportCell(t *testing.T, f *excelize.File, sheet, ref string) (shown, raw string, isText bool) {
	t.Helper()
	shown, err := f.GetCellValue(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	typ, _ := f.GetCellType(sheet, ref)
	return shown, raw, typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString
}

// TestSettlementExportIsTypedForFinance downloads the settlement export a
// district's finance office pays from. In the XLSX, money is a number with
// a ¥ format (a SUM over the column is the total the API reports), counts
// are numbers, days and times are dates, and the 19-digit account stays
// text. In the CSV, money is a plain decimal and the account is written so
// that a spreadsheet keeps it as text.
func TestSettlementExportIsTypedForFinance(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 3})
	m, cashier := exportMerchant(t, e)

	// 25 Nov: two redemptions (¥30 + ¥30 on ¥150 + ¥120.50); 26 Nov: one (¥30 on ¥200).
	for i, bill := range []string{"150", "120.50"} {
		v := claimOne(t, e, c, fmt.Sprintf("1380000000%d", i))
		if r := redeem(t, e, cashier, v.Code, bill, fmt.Sprintf("k%d", i)); r.Status != http.StatusCreated {
			t.Fatalf("redeem: %d %s", r.Status, r.Raw)
		}
	}
	e.Clock.Advance(24 * time.Hour)
	officer := officerToken(t, e, e.Maker)
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/settlements/%d/2026-11-25/pay", m.ID), officer, nil); r.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", r.Status, r.Raw)
	}
	v := claimOne(t, e, c, "13800000009")
	if r := redeem(t, e, cashier, v.Code, "200", "k9"); r.Status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	r := e.API(t, http.MethodGet, "/api/v1/officer/settlements?from=2026-11-25&to=2026-11-26", officer, nil)
	var payableFen int64
	for _, st := range r.Body["statements"].([]any) {
		payableFen += int64(st.(map[string]any)["subsidy_payable_fen"].(float64))
	}
	if payableFen != 9000 {
		t.Fatalf("statements: %s", r.Raw)
	}

	f, sheet := exportSheet(t, e, "/officer/settlements?from=2026-11-25&to=2026-11-26&format=xlsx", officer)
	rows, _ := f.GetRows(sheet)
	if len(rows) != 3 || rows[0][4] != "结算账号" || rows[0][7] != "应付补贴（元）" {
		t.Fatalf("XLSX rows: %v", rows)
	}
	if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header row not frozen: %+v %v", panes, err)
	}
	// Newest day first or not, find the row of 25 Nov by its date.
	day1 := 2
	if shown, _, _ := exportCell(t, f, sheet, "A2"); shown != "2026-11-25" {
		day1 = 3
	}
	ref := func(col string, row int) string { return col + strconv.Itoa(row) }
	for _, tc := range []struct {
		ref, shown, raw string // raw: the stored value, or its start when it ends in "…"
		text            bool
	}{
		{ref("A", day1), "2026-11-25", "46351", false}, // a date: days since 1899-12-30
		{ref("E", day1), exportAccount, exportAccount, true},
		{ref("F", day1), "2", "2", false},
		{ref("H", day1), "¥60.00", "60", false},
		{ref("I", day1), "¥270.50", "270.5", false},
		{ref("J", day1), "2026-11-26 10:00", "46352.41666…", false}, // 10:00 is 10/24 of a day
	} {
		shown, raw, text := exportCell(t, f, sheet, tc.ref)
		rawOK := raw == tc.raw
		if start, cut := strings.CutSuffix(tc.raw, "…"); cut {
			rawOK = strings.HasPrefix(raw, start)
		}
		if shown != tc.shown || text != tc.text || !rawOK {
			t.Errorf("%s: shown %q raw %q text %v, want %q raw %q text %v", tc.ref, shown, raw, text, tc.shown, tc.raw, tc.text)
		}
	}
	// Excel's SUM over the money column is what the district pays.
	if err := f.SetCellFormula(sheet, "H10", "SUM(H2:H3)"); err != nil {
		t.Fatal(err)
	}
	if sum, err := f.CalcCellValue(sheet, "H10", excelize.Options{RawCellValue: true}); err != nil || sum != app.Fen(payableFen).Short() {
		t.Errorf("SUM(H2:H3) = %q (%v), want %s", sum, err, app.Fen(payableFen).Short())
	}

	status, body := getPage(t, e, "/officer/settlements?from=2026-11-25&to=2026-11-26&format=csv", officer)
	want := fmt.Sprintf(`2026-11-25,%d,洪崖洞火锅,渝中区,"=""%s""",2,0,60.00,270.50,2026-11-26 10:00,渝中区`, m.ID, exportAccount)
	if status != http.StatusOK || !bytes.Contains(body, []byte("\r\n"+want+"\r\n")) && !bytes.Contains(body, []byte("\n"+want+"\n")) {
		t.Fatalf("CSV: %d, want the line\n%s\nin\n%s", status, want, body)
	}
	// What a spreadsheet reads from that field: a formula giving the exact
	// digits as text, never the bare number it would turn into 6.22E+18.
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if rec[4] != `="`+exportAccount+`"` {
			t.Errorf("account field %q", rec[4])
		}
		if _, err := strconv.ParseFloat(rec[4], 64); err == nil {
			t.Errorf("account field %q reads as a number", rec[4])
		}
	}
}

// TestDashboardExportIsTyped checks the evaluation tables and the public
// open data: days are dates, counts, money, leverage and rates are numbers.
func TestDashboardExportIsTyped(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), v.Code, "128.50", "k1"); r.Status != http.StatusCreated {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	officer := officerToken(t, e, e.Maker)
	f, sheet := exportSheet(t, e, fmt.Sprintf("/officer/campaigns/%d/dashboard?table=by_day&format=xlsx", c.ID), officer)
	for _, tc := range []struct {
		ref, shown, raw string
	}{
		{"A2", "2026-11-25", "46351"}, {"C2", "1", "1"}, {"E2", "¥30.00", "30"}, {"F2", "¥128.50", "128.5"}, {"G2", "4.28", "4.28"},
	} {
		if shown, raw, text := exportCell(t, f, sheet, tc.ref); shown != tc.shown || raw != tc.raw || text {
			t.Errorf("%s: shown %q raw %q text %v, want %q raw %q as a number", tc.ref, shown, raw, text, tc.shown, tc.raw)
		}
	}
	// The public open-data export: counts, money, leverage and the redemption
	// rate (1 of 100 released, claimed 1: 100.00 %) are numbers.
	f, sheet = exportSheet(t, e, "/open-data?format=xlsx", "")
	for _, tc := range []struct {
		ref, shown, raw string
	}{
		{"E2", "100", "100"}, {"G2", "1", "1"}, {"H2", "¥30.00", "30"}, {"I2", "¥128.50", "128.5"}, {"J2", "4.28", "4.28"}, {"K2", "100.00", "100"},
	} {
		if shown, raw, text := exportCell(t, f, sheet, tc.ref); shown != tc.shown || raw != tc.raw || text {
			t.Errorf("open data %s: shown %q raw %q text %v, want %q raw %q as a number", tc.ref, shown, raw, text, tc.shown, tc.raw)
		}
	}
	// Hours keep their two digits: "09", not 9.
	status, body := getPage(t, e, fmt.Sprintf("/officer/campaigns/%d/dashboard?table=by_hour&format=csv", c.ID), officer)
	if status != http.StatusOK || !bytes.Contains(body, []byte("\n\"=\"\"09\"\"\",0,0,0,0.00,0.00,0.00,0.00\n")) {
		t.Errorf("by-hour CSV: %d %q", status, body)
	}
}

// TestAuditExportHasEveryRowOfTheFilter fills the log past several export
// pages (and past the 200 rows an export used to stop at, silently): the
// export holds every row of the filter, newest first, and none of another
// district.
func TestAuditExportHasEveryRowOfTheFilter(t *testing.T) {
	e := apptest.New(t, apptest.Options{Synchronous: "NORMAL"})
	ctx := context.Background()
	const mine = 1234
	at := e.Clock.Now()
	for i := range mine {
		district := "500103"
		if i%10 == 0 { // interleaved rows of another district, which a 渝中 officer must not get
			if err := e.Store.AppendAudit(ctx, app.SystemAudit(at, "demo.load", "merchant", "500105", map[string]int{"n": i})); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Store.AppendAudit(ctx, app.SystemAudit(at, "demo.load", "merchant", district, map[string]int{"n": i})); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Millisecond)
	}
	officer := officerToken(t, e, e.Maker)

	// The export link of an older page (?before=) carries the page's cursor: still the whole filter.
	status, body := getPage(t, e, "/officer/audit?action=demo.&before=600&format=csv", officer)
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil {
		t.Fatalf("audit CSV: %d %v", status, err)
	}
	if got := len(recs) - 1; got != mine {
		t.Fatalf("audit CSV has %d rows, want all %d of the filter", got, mine)
	}
	last := int64(1 << 62)
	for _, rec := range recs[1:] {
		id, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil || id >= last {
			t.Fatalf("row ids not strictly newest first: %q after %d", rec[0], last)
		}
		last = id
		if rec[6] != `="500103"` {
			t.Fatalf("row %d of district %s", id, rec[6])
		}
	}

	f, sheet := exportSheet(t, e, "/officer/audit?action=demo.&format=xlsx", officer)
	rows, err := f.GetRows(sheet)
	if err != nil || len(rows)-1 != mine {
		t.Fatalf("audit XLSX has %d rows (%v), want %d", len(rows)-1, err, mine)
	}
	if shown, _, text := exportCell(t, f, sheet, "K2"); !text || len(shown) != 64 {
		t.Errorf("hash cell %q text %v, want the 64 hex digits as text", shown, text)
	}

	// The page still shows 50 rows at a time.
	status, body = getPage(t, e, "/officer/audit?action=demo.", officer)
	if status != http.StatusOK || !bytes.Contains(body, []byte("before=")) {
		t.Fatalf("audit page: %d, want a link to older rows", status)
	}
}

// TestExportRefusesAnUnknownFormat: a format other than csv or xlsx is a
// 400 with a Chinese message, not an empty 200.
func TestExportRefusesAnUnknownFormat(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	officer := officerToken(t, e, e.Maker)
	owner := e.CashierSession(t, e.NewOwner(t, e.Merchant, "boss"))
	for _, call := range []struct{ path, bearer string }{
		{"/officer/audit?format=pdf", officer},
		{"/officer/audit?format=CSV", officer},
		{"/officer/settlements?format=xls", officer},
		{fmt.Sprintf("/officer/campaigns/%d/dashboard?table=by_day&format=json", c.ID), officer},
		{"/officer/compare?table=campaigns&format=ods", officer},
		{"/merchant/statements?format=pdf", owner},
		{"/open-data?format=pdf", ""},
	} {
		status, body := getPage(t, e, call.path, call.bearer)
		if status != http.StatusBadRequest || !strings.Contains(string(body), "不支持这种导出格式") {
			t.Errorf("GET %s: %d %.200s", call.path, status, body)
		}
	}
}

// getPage downloads a page or an export with a session (see download).
func getPage(t *testing.T, e *apptest.Env, path, bearer string) (int, []byte) {
	t.Helper()
	status, _, body := download(t, e, path, bearer)
	return status, body
}
