package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// settlementSeason gives 渝中 twelve merchants (half of them hotpot
// restaurants, each with a settlement account) and five days of
// redemptions, one per merchant a day: 60 statements of ¥30, on days
// 25–29 Nov; the clock ends on 30 Nov, so every day is over.
func settlementSeason(t *testing.T, e *apptest.Env) []app.Merchant {
	t.Helper()
	c := e.LiveCampaign(t, apptest.CampaignSpec{Tiers: []app.TierInput{{Face: "30", Threshold: "100", Quantity: "100"}}})
	var shops []app.Merchant
	var tills []string
	for i := range 12 {
		name := fmt.Sprintf("解放碑火锅%02d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("较场口小面%02d", i)
		}
		m, err := e.App.Apply(t.Context(), app.MerchantApplication{Name: name, USCC: fmt.Sprintf("91500103MA%08d", i), Category: "catering",
			District: "500103", Address: "渝中区民族路 1 号", ContactName: "刘芳", ContactPhone: "13800138001",
			SettlementAccount: fmt.Sprintf("62220212345678%05d", i), OwnerUsername: fmt.Sprintf("shop%02d", i), OwnerPassword: "a-long-password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.App.ReviewMerchant(t.Context(), e.Approver, m.ID, "approve", "执照核对无误"); err != nil {
			t.Fatal(err)
		}
		shops = append(shops, m)
		tills = append(tills, e.CashierSession(t, e.NewCashier(t, m, fmt.Sprintf("till%02d", i))))
	}
	var codes []string
	for i := range 60 {
		codes = append(codes, claimOne(t, e, c, fmt.Sprintf("139%08d", i)).Code)
	}
	for day := range 5 {
		for i := range shops {
			if r := redeem(t, e, tills[i], codes[day*12+i], "150", fmt.Sprintf("d%d-%d", day, i)); r.Status != 201 {
				t.Fatalf("redeem on day %d at shop %d: %d %s", day, i, r.Status, r.Raw)
			}
		}
		e.Clock.Advance(24 * time.Hour)
	}
	return shops
}

// Settlement at city scale: the list pages and filters, its totals cover
// the whole selection, a filtered set is paid in one audited batch after a
// confirmation that names its figures, a confirmation gone stale pays
// nothing, and the batch's payment file has one line per merchant with
// the account, the amount and a reference.
func TestSettlementFiltersPagingAndBatchPayment(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	shops := settlementSeason(t, e)
	officer := officerToken(t, e, e.Maker)
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", officer)
	rows := regexp.MustCompile(`<td data-label="日期">`)

	list := "/officer/settlements?from=2026-11-25&to=2026-11-29"
	p := b.do(t, http.MethodGet, list, nil)
	if p.status != 200 || len(rows.FindAllString(p.body, -1)) != 50 || !strings.Contains(p.body, "第 1 / 2 页") ||
		!strings.Contains(p.body, "共 60 张对账单，12 户商户；应付补贴 ¥1,800.00，其中已支付 ¥0.00") {
		t.Fatalf("first page: %d, %d rows\n%s", p.status, len(rows.FindAllString(p.body, -1)), p.body)
	}
	if p := b.do(t, http.MethodGet, list+"&page=2", nil); len(rows.FindAllString(p.body, -1)) != 10 || !strings.Contains(p.body, "第 2 / 2 页") {
		t.Fatalf("second page: %d rows", len(rows.FindAllString(p.body, -1)))
	}
	// Hotpot restaurants, 26–28 Nov: 6 merchants × 3 days.
	hotpot := "from=2026-11-26&to=2026-11-28&merchant=" + url.QueryEscape("火锅")
	if p := b.do(t, http.MethodGet, "/officer/settlements?"+hotpot, nil); len(rows.FindAllString(p.body, -1)) != 18 ||
		strings.Contains(p.body, "较场口小面") || !strings.Contains(p.body, "支付筛选出的 18 张未支付对账单（¥540.00）") {
		t.Fatalf("hotpot filter: %d rows\n%s", len(rows.FindAllString(p.body, -1)), p.body)
	}
	confirm := b.do(t, http.MethodGet, "/officer/settlements/pay?"+hotpot, nil)
	if confirm.status != 200 || !strings.Contains(confirm.body, "将由渝中区资金支付 2026-11-26 至 2026-11-28 的 18 张对账单，共 6 户商户，合计 ¥540.00") ||
		!strings.Contains(confirm.body, `name="expect_statements" value="18"`) || !strings.Contains(confirm.body, `name="expect_fen" value="54000"`) {
		t.Fatalf("confirmation: %d\n%s", confirm.status, confirm.body)
	}
	form := url.Values{"from": {"2026-11-26"}, "to": {"2026-11-28"}, "merchant": {"火锅"}, "funding_district": {"500103"},
		"expect_statements": {"18"}, "expect_fen": {"54000"}}

	// Meanwhile a colleague pays one of them: the confirmation is stale,
	// and posting it pays nothing.
	colleague := officerToken(t, e, e.Approver)
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/settlements/%d/2026-11-27/pay", shops[0].ID), colleague, nil); r.Status != 200 {
		t.Fatalf("colleague pays one: %d %s", r.Status, r.Raw)
	}
	paidBefore := e.Count(t, `SELECT COUNT(*) FROM settlements`)
	if p := b.do(t, http.MethodPost, "/officer/settlements/pay", form); p.status != 409 ||
		!strings.Contains(p.body, "确认后这些对账单有了变化（现为 17 张，¥510.00）") {
		t.Fatalf("stale confirmation: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM settlements`); n != paidBefore {
		t.Fatalf("a stale confirmation paid %d statements", n-paidBefore)
	}
	// Confirmed again with what is there now, it pays exactly that.
	form.Set("expect_statements", "17")
	form.Set("expect_fen", "51000")
	batch := e.Count(t, `SELECT COALESCE(MAX(id), 0) FROM payment_batches`) + 1
	if p := b.do(t, http.MethodPost, "/officer/settlements/pay", form); p.status != http.StatusSeeOther ||
		p.location != fmt.Sprintf("/officer/settlements/batches/%d", batch) {
		t.Fatalf("paying: %d → %q", p.status, p.location)
	}
	p = b.do(t, http.MethodGet, fmt.Sprintf("/officer/settlements/batches/%d", batch), nil)
	if p.status != 200 || !strings.Contains(p.body, `<dd id="batch-statements">17</dd>`) || !strings.Contains(p.body, `<dd id="batch-amount">¥510.00</dd>`) {
		t.Fatalf("after paying: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM settlements WHERE batch_id = ?`, batch); n != 17 {
		t.Fatalf("the batch froze %d statements", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'settlement.pay_batch' AND entity_id = ? AND after_json LIKE '%"statements":17%'`, batch); n != 1 {
		t.Fatalf("batch audited %d times", n)
	}
	if p := b.do(t, http.MethodGet, "/officer/audit?action=settlement.pay_batch", nil); !strings.Contains(p.body, "将一批结算标记为已支付") ||
		!strings.Contains(p.body, fmt.Sprintf(`href="/officer/settlements/batches/%d"`, batch)) || !strings.Contains(p.body, "¥510.00") {
		t.Fatalf("the batch in the audit log\n%s", p.body)
	}
	if p := b.do(t, http.MethodGet, "/officer/settlements?"+hotpot+"&paid=unpaid", nil); len(rows.FindAllString(p.body, -1)) != 0 {
		t.Fatalf("unpaid hotpot statements after paying: %d", len(rows.FindAllString(p.body, -1)))
	}

	// The payment file: one line per merchant, 6 of them, ¥90 each except
	// the one whose 27 Nov the colleague paid.
	status, _, body := download(t, e, fmt.Sprintf("/officer/settlements/batches/%d?format=csv", batch), officer)
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != 200 || err != nil || len(recs) != 7 {
		t.Fatalf("payment file: %d %v\n%s", status, err, body)
	}
	if h := strings.Join(recs[0][:4], ","); h != "户名,账号,金额（元）,附言" {
		t.Fatalf("payment file header: %s", h)
	}
	want := fmt.Sprintf("%s,6222021234567800000,60.00,CQV-500103-%06d-%06d", shops[0].Name, batch, shops[0].ID)
	if got := strings.Join(recs[1][:4], ","); got != want {
		t.Fatalf("payment file line: %s, want %s", got, want)
	}
	if got := strings.Join(recs[2][:4], ","); !strings.HasSuffix(got, fmt.Sprintf(",90.00,CQV-500103-%06d-%06d", batch, shops[2].ID)) {
		t.Fatalf("payment file line 2: %s", got)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'export.payment_file'`); n != 1 {
		t.Fatalf("payment file downloads audited: %d", n)
	}

	// The owner sees the reference on the statement, and prints it.
	owner := e.CashierSession(t, e.NewOwner(t, shops[2], "boss02"))
	ob := authzNewBrowser(t, e)
	ob.setCookie("cqv_cashier", owner)
	if p := ob.do(t, http.MethodGet, "/merchant/statements?from=2026-11-25&to=2026-11-29", nil); !strings.Contains(p.body,
		fmt.Sprintf("CQV-500103-%06d-%06d", batch, shops[2].ID)) {
		t.Fatalf("owner's statements lack the reference\n%s", p.body)
	}
	if p := ob.do(t, http.MethodGet, "/merchant/statements?from=2026-11-25&to=2026-11-29&print=1&funding_district=500103", nil); p.status != 200 ||
		!strings.Contains(p.body, `id="statement-print"`) || !strings.Contains(p.body, "已支付 ¥90.00；未支付 ¥60.00") {
		t.Fatalf("owner's printed statement: %d\n%s", p.status, p.body)
	}
	// The officer's printed statement of one merchant and period.
	if p := b.do(t, http.MethodGet, fmt.Sprintf("/officer/settlements/statement?merchant_id=%d&funding_district=500103&from=2026-11-25&to=2026-11-29",
		shops[0].ID), nil); p.status != 200 || strings.Count(p.body, "<tr><td>2026-11-2") != 5 ||
		!strings.Contains(p.body, "6222021234567800000") || !strings.Contains(p.body, "已支付 ¥90.00；未支付 ¥60.00") {
		t.Fatalf("officer's printed statement: %d\n%s", p.status, p.body)
	}
}

// Paying is an officer's act on their own fund: an auditor is offered no
// payment and is refused one; 江北's officers cannot pay 渝中's fund; an
// empty or unreadable expectation pays nothing.
func TestBatchPaymentIsRefusedOutsideTheOfficersFund(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	settlementSeason(t, e)
	body := map[string]any{"from": "2026-11-25", "to": "2026-11-29", "funding_district": "500103", "expect_statements": 60, "expect_fen": 180000}
	auditor := officerToken(t, e, e.NewAuditor(t, "yz-audit", "500103"))
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", auditor, body); r.Status != 403 {
		t.Fatalf("auditor pays: %d %s", r.Status, r.Raw)
	}
	ab := authzNewBrowser(t, e)
	ab.setCookie("cqv_auditor", auditor)
	ab.setCookie("cqv_officer", auditor)
	if p := ab.do(t, http.MethodGet, "/officer/settlements?from=2026-11-25&to=2026-11-29", nil); p.status != 200 ||
		strings.Contains(p.body, `id="pay-selection"`) || strings.Contains(p.body, "/officer/settlements/pay?") {
		t.Fatalf("auditor's settlement page offers a payment: %d", p.status)
	}
	jb := officerToken(t, e, e.NewOfficer(t, "jb-finance", "500105", true))
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", jb, body); r.Status != 404 {
		t.Fatalf("江北 pays 渝中's fund: %d %s", r.Status, r.Raw)
	}
	maker := officerToken(t, e, e.Maker)
	body["expect_statements"] = 0
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", maker, body); r.Status != 404 || r.Reason() != "nothing_to_pay" {
		t.Fatalf("no expectation: %d %s", r.Status, r.Raw)
	}
	body["expect_statements"], body["to"] = 60, "2026-11-2x"
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", maker, body); r.Status != 422 {
		t.Fatalf("bad day: %d %s", r.Status, r.Raw)
	}
	body["to"] = "2026-11-29"
	r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", maker, body)
	if r.Status != 200 || r.Body["statements"] != 60.0 || r.Body["merchants"] != 12.0 || r.Body["subsidy_fen"] != 180000.0 {
		t.Fatalf("pay all: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM settlements`); n != 60 {
		t.Fatalf("%d statements paid", n)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", maker, body); r.Status != 409 || r.Reason() != "statements_changed" {
		t.Fatalf("paying twice: %d %s", r.Status, r.Raw)
	}
}

// A fund's payments to a merchant are held pending review, with a reason:
// its statements stay listed, are not payable and are left out of a
// payment of everything; released with what the review found, they are
// paid. Both steps are confirmed, required to say why, and audited.
func TestHeldMerchantIsNotPaidUntilReleased(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	shops := settlementSeason(t, e)
	officer := officerToken(t, e, e.Maker)
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", officer)
	held := fmt.Sprintf("merchant_id=%d&funding_district=500103", shops[0].ID)
	if p := b.do(t, http.MethodGet, "/officer/settlements/hold?"+held, nil); p.status != 200 ||
		!strings.Contains(p.body, "暂缓后，渝中区资金将不再支付「解放碑火锅00」的任何对账单（目前未支付 5 张，¥150.00）") {
		t.Fatalf("hold confirmation: %d\n%s", p.status, p.body)
	}
	form := url.Values{"merchant_id": {fmt.Sprint(shops[0].ID)}, "funding_district": {"500103"}, "reason": {"  "}}
	if p := b.do(t, http.MethodPost, "/officer/settlements/hold", form); p.status != 422 || !strings.Contains(p.body, "请填写理由") {
		t.Fatalf("hold without a reason: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM settlement_holds`); n != 0 {
		t.Fatalf("a refused hold wrote %d rows", n)
	}
	form.Set("reason", "同一居民当日在本店核销 9 张，疑似套现，待核查")
	if p := b.do(t, http.MethodPost, "/officer/settlements/hold", form); p.status != http.StatusSeeOther {
		t.Fatalf("hold: %d\n%s", p.status, p.body)
	}
	if p := b.do(t, http.MethodPost, "/officer/settlements/hold", form); p.status != 409 || !strings.Contains(p.body, "已在暂缓支付中") {
		t.Fatalf("holding twice: %d", p.status)
	}
	p := b.do(t, http.MethodGet, "/officer/settlements?from=2026-11-25&to=2026-11-29&merchant_id="+fmt.Sprint(shops[0].ID), nil)
	if strings.Count(p.body, `<span class="status status-paused">暂缓支付</span>`) != 5 || strings.Contains(p.body, "/officer/settlements/pay?merchant_id") ||
		!strings.Contains(p.body, "其中暂缓支付 ¥150.00") || !strings.Contains(p.body, "疑似套现") {
		t.Fatalf("held merchant's statements\n%s", p.body)
	}
	r := e.API(t, http.MethodGet, "/api/v1/officer/settlements?from=2026-11-25&to=2026-11-29", officer, nil)
	tot := r.Body["totals"].(map[string]any)
	if tot["payable_statements"] != 55.0 || tot["payable_fen"] != 165000.0 || tot["held_fen"] != 15000.0 {
		t.Fatalf("totals with a hold: %v", tot)
	}
	all := map[string]any{"from": "2026-11-25", "to": "2026-11-29", "expect_statements": 55, "expect_fen": 165000}
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", officer, all); r.Status != 200 {
		t.Fatalf("pay everything but the held: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM settlements WHERE merchant_id = ?`, shops[0].ID); n != 0 {
		t.Fatalf("%d of the held merchant's statements paid", n)
	}
	jb := officerToken(t, e, e.NewOfficer(t, "jb-finance", "500105", true))
	release := map[string]any{"merchant_id": shops[0].ID, "funding_district": "500103", "reason": "核查：均为家庭聚餐分单，属正常消费"}
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/holds/release", jb, release); r.Status != 404 {
		t.Fatalf("江北 releases 渝中's hold: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/holds/release", officer, map[string]any{"merchant_id": shops[0].ID}); r.Status != 422 ||
		r.Reason() != "reason_required" {
		t.Fatalf("release without a note: %d %s", r.Status, r.Raw)
	}
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/holds/release", officer, release); r.Status != 204 {
		t.Fatalf("release: %d %s", r.Status, r.Raw)
	}
	all["expect_statements"], all["expect_fen"] = 5, 15000
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", officer, all); r.Status != 200 {
		t.Fatalf("pay the released: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action IN ('settlement.hold', 'settlement.release') AND entity_id = ?
		AND (after_json LIKE '%疑似套现%' OR after_json LIKE '%正常消费%')`, shops[0].ID); n != 2 {
		t.Fatalf("hold and release audited %d times", n)
	}
}

// A refund after its day was paid: the cashier is told the subsidy will
// be clawed back; the next payment to the merchant from the fund nets it
// (the confirmation says so, the batch and its payment file carry the net
// amount), the owner sees the clawback and where it was netted, and the
// books check after the test finds every paid statement equal to its rows
// and clawbacks.
func TestRefundAfterPaymentIsClawedBackFromTheNextPayment(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	shops := settlementSeason(t, e)
	officer := officerToken(t, e, e.Maker)
	first := map[string]any{"from": "2026-11-25", "to": "2026-11-27", "expect_statements": 36, "expect_fen": 108000}
	if r := e.API(t, http.MethodPost, "/api/v1/officer/settlements/pay", officer, first); r.Status != 200 {
		t.Fatalf("paying 25–27 Nov: %d %s", r.Status, r.Raw)
	}
	// 30 Nov: a customer of shop 1 gets a refund of a 26 Nov bill.
	till := authzNewBrowser(t, e)
	till.setCookie("cqv_cashier", e.CashierSession(t, e.NewCashier(t, shops[1], "refund-till")))
	redID := e.Count(t, `SELECT id FROM redemptions WHERE merchant_id = ? AND idempotency_key = 'd1-1'`, shops[1].ID)
	p := till.do(t, http.MethodGet, fmt.Sprintf("/merchant/redemptions?confirm=%d", redID), nil)
	if p.status != 200 || !strings.Contains(p.body, "这一天的补贴已结算给本店：撤销后，¥30.00 将从本店下一次结算中扣回。") {
		t.Fatalf("refund confirmation of a paid day: %d\n%s", p.status, p.body)
	}
	if p := till.do(t, http.MethodPost, fmt.Sprintf("/merchant/redemptions/%d/reverse", redID), url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("refund: %d\n%s", p.status, p.body)
	}
	if n := e.Count(t, `SELECT subsidy_fen FROM clawbacks WHERE redemption_id = ? AND batch_id IS NULL`, redID); n != 3000 {
		t.Fatalf("open clawback of %d fen, want 3000", n)
	}
	// The next payment, 28–29 Nov: 24 statements of ¥30, less the ¥30.
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_officer", officer)
	p = b.do(t, http.MethodGet, "/officer/settlements/pay?from=2026-11-28&to=2026-11-29", nil)
	if p.status != 200 || !strings.Contains(p.body, "其中扣回此前已结算后又撤销的核销补贴 ¥30.00，实际转账 ¥690.00") ||
		!strings.Contains(p.body, `name="expect_clawback_fen" value="3000"`) {
		t.Fatalf("confirmation with a clawback: %d\n%s", p.status, p.body)
	}
	form := url.Values{"from": {"2026-11-28"}, "to": {"2026-11-29"}, "expect_statements": {"24"}, "expect_fen": {"72000"}}
	if p := b.do(t, http.MethodPost, "/officer/settlements/pay", form); p.status != 409 {
		t.Fatalf("a confirmation that did not see the clawback: %d", p.status)
	}
	form.Set("expect_clawback_fen", "3000")
	if p := b.do(t, http.MethodPost, "/officer/settlements/pay", form); p.status != http.StatusSeeOther {
		t.Fatalf("the next payment: %d\n%s", p.status, p.body)
	}
	batch := e.Count(t, `SELECT MAX(id) FROM payment_batches`)
	if n := e.Count(t, `SELECT COUNT(*) FROM clawbacks WHERE batch_id = ?`, batch); n != 1 {
		t.Fatal("the clawback was not netted by the next payment")
	}
	if p := b.do(t, http.MethodGet, fmt.Sprintf("/officer/settlements/batches/%d", batch), nil); !strings.Contains(p.body, `<dd id="batch-clawback">−¥30.00</dd>`) ||
		!strings.Contains(p.body, `<dd id="batch-net">¥690.00</dd>`) {
		t.Fatalf("batch page\n%s", p.body)
	}
	status, _, body := download(t, e, fmt.Sprintf("/officer/settlements/batches/%d?format=csv", batch), officer)
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != 200 || err != nil || len(recs) != 13 {
		t.Fatalf("payment file: %d %v\n%s", status, err, body)
	}
	want := fmt.Sprintf("%s,6222021234567800001,30.00,CQV-500103-%06d-%06d,%d,2,2026-11-28,2026-11-29,60.00,30.00", shops[1].Name, batch, shops[1].ID, shops[1].ID)
	if got := strings.Join(recs[2], ","); got != want {
		t.Fatalf("payment file line of the merchant clawed back:\n%s\nwant\n%s", got, want)
	}
	owner := authzNewBrowser(t, e)
	owner.setCookie("cqv_cashier", e.CashierSession(t, e.NewOwner(t, shops[1], "boss01")))
	if p := owner.do(t, http.MethodGet, "/merchant/statements?from=2026-11-25&to=2026-11-30", nil); !strings.Contains(p.body, `id="clawbacks"`) ||
		!strings.Contains(p.body, fmt.Sprintf("已在付款批次 %d 中扣回", batch)) {
		t.Fatalf("owner's statements lack the clawback\n%s", p.body)
	}
}
