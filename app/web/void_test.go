package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/token"
)

// Voiding a voucher takes two officers: the maker asks on the void page
// with a reason and cannot approve it; the approver must say why to
// reject, and approving voids it: the resident is texted and sees why in
// the wallet, the till refuses it, the committed budget frees its face,
// /.well-known/revoked.json lists its revocation id under the key that
// signed it, and each step is in the audit log.
func TestVoidTakesTwoOfficersAndTellsEveryone(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	v := claimOne(t, e, c, "13800138000")
	kid, err := token.KeyID(v.Token)
	if err != nil {
		t.Fatal(err)
	}
	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	if p := maker.do(t, http.MethodGet, "/officer/vouchers/void?code="+v.Code, nil); p.status != 200 ||
		!strings.Contains(p.body, `<dd id="void-state">可使用</dd>`) || !strings.Contains(p.body, "须由另一位有审批权的人员批准") {
		t.Fatalf("void page: %d\n%s", p.status, p.body)
	}
	form := url.Values{"code": {v.Code}, "reason": {" "}}
	if p := maker.do(t, http.MethodPost, "/officer/vouchers/void", form); p.status != 422 || !strings.Contains(p.body, "请填写理由") {
		t.Fatalf("void without a reason: %d", p.status)
	}
	const reason = "同一设备 40 分钟内领取 23 张，疑似套现"
	form.Set("reason", reason)
	p := maker.do(t, http.MethodPost, "/officer/vouchers/void", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("void request: %d\n%s", p.status, p.body)
	}
	id := e.Count(t, `SELECT x.id FROM voucher_voids x JOIN vouchers v ON v.id = x.voucher_id WHERE v.code = ?`, v.Code)
	if p.status != http.StatusSeeOther || p.location != fmt.Sprintf("/officer/voids/%d", id) {
		t.Fatalf("void request: %d → %q", p.status, p.location)
	}
	if p := maker.do(t, http.MethodGet, p.location, nil); !strings.Contains(p.body, `id="void-own"`) || strings.Contains(p.body, `id="void-approve"`) {
		t.Fatalf("the asker is offered the decision\n%s", p.body)
	}
	if p := maker.do(t, http.MethodPost, fmt.Sprintf("/officer/voids/%d/approve", id), url.Values{}); p.status != 403 ||
		!strings.Contains(p.body, "只有有审批权的人员可以审批") {
		t.Fatalf("the asker approves: %d", p.status)
	}
	approver := authzNewBrowser(t, e)
	approver.setCookie("cqv_officer", officerToken(t, e, e.Approver))
	if p := approver.do(t, http.MethodPost, fmt.Sprintf("/officer/voids/%d/reject", id), url.Values{"note": {""}}); p.status != 422 {
		t.Fatalf("a rejection without a note: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM voucher_voids WHERE decided_at IS NOT NULL`); n != 0 {
		t.Fatal("a refused decision was written")
	}
	if p := approver.do(t, http.MethodGet, fmt.Sprintf("/officer/voids/%d", id), nil); !strings.Contains(p.body, `id="void-approve"`) ||
		!strings.Contains(p.body, reason) {
		t.Fatalf("approver's page\n%s", p.body)
	}
	if p := approver.do(t, http.MethodPost, fmt.Sprintf("/officer/voids/%d/approve", id), url.Values{"note": {"核实属实"}}); p.status != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", p.status, p.body)
	}
	if p := approver.do(t, http.MethodPost, fmt.Sprintf("/officer/voids/%d/approve", id), url.Values{}); p.status != 409 {
		t.Fatalf("deciding twice: %d", p.status)
	}
	// The resident is told, and the wallet says why.
	if got := e.SMS.Last("13800138000"); !strings.Contains(got, "已作废："+reason) {
		t.Fatalf("text to the resident: %q", got)
	}
	_, rtok := e.ResidentSession(t, "13800138000")
	resident := authzNewBrowser(t, e)
	resident.setCookie("cqv_resident", rtok)
	if p := resident.do(t, http.MethodGet, "/m/wallet?tab=expired", nil); !strings.Contains(p.body, "已作废") || !strings.Contains(p.body, "作废理由："+reason) {
		t.Fatalf("wallet\n%s", p.body)
	}
	// The till refuses it; the budget no longer holds its face.
	cashier := e.CashierSession(t, e.Cashier)
	if r := redeem(t, e, cashier, v.Code, "150", "void-1"); r.Status != 409 || r.Reason() != "voucher_voided" {
		t.Fatalf("redeeming the voided: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT expired FROM tiers WHERE id = ?`, c.Tiers[0].ID); n != 1 {
		t.Fatalf("tier expired = %d, want the voided counted", n)
	}
	// Offline verifiers learn it.
	r := e.API(t, http.MethodGet, "/.well-known/revoked.json", "", nil)
	keys, _ := r.Body["keys"].([]any)
	if r.Status != 200 || len(keys) != 1 {
		t.Fatalf("revoked.json: %d %s", r.Status, r.Raw)
	}
	k := keys[0].(map[string]any)
	if k["kid"] != kid || k["method"] != "rid" || k["ctr"] != 1.0 || fmt.Sprint(k["rids"]) != "["+app.RevocationID(v.Code)+"]" ||
		strings.Contains(r.Raw, v.Code) {
		t.Fatalf("revoked.json: %s", r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action IN ('void.request', 'void.approve') AND after_json LIKE ?`, "%"+reason+"%"); n != 2 {
		t.Fatalf("void audited %d times, want the request and the approval", n)
	}
}

// A void is refused where it cannot stand: a used voucher, another
// district's, a second request for one voucher, and an auditor's.
func TestVoidIsRefusedOutsideItsRules(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{Limit: 2})
	used, fresh := claimOne(t, e, c, "13800138000"), claimOne(t, e, c, "13800138001")
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), used.Code, "150", "k"); r.Status != 201 {
		t.Fatal(r.Raw)
	}
	maker := officerToken(t, e, e.Maker)
	ask := func(tok, code string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/officer/voids", tok, map[string]string{"code": code, "reason": "核查"})
	}
	if r := ask(maker, used.Code); r.Status != 409 || r.Reason() != "voucher_not_voidable" {
		t.Fatalf("voiding a used voucher: %d %s", r.Status, r.Raw)
	}
	if r := ask(officerToken(t, e, e.NewOfficer(t, "jb-maker", "500105", false)), fresh.Code); r.Status != 404 {
		t.Fatalf("江北 voids 渝中's voucher: %d %s", r.Status, r.Raw)
	}
	if r := ask(officerToken(t, e, e.NewAuditor(t, "yz-audit", "500103")), fresh.Code); r.Status != 403 {
		t.Fatalf("an auditor voids: %d %s", r.Status, r.Raw)
	}
	if r := ask(maker, fresh.Code); r.Status != 201 {
		t.Fatalf("a void request: %d %s", r.Status, r.Raw)
	}
	if r := ask(maker, fresh.Code); r.Status != 409 || r.Reason() != "void_requested" {
		t.Fatalf("asking twice: %d %s", r.Status, r.Raw)
	}
	// An approver who asks cannot decide it: it takes a second officer.
	other := claimOne(t, e, c, "13800138002")
	approver := officerToken(t, e, e.Approver)
	if r := ask(approver, other.Code); r.Status != 201 {
		t.Fatalf("the approver asks: %d %s", r.Status, r.Raw)
	}
	own := e.Count(t, `SELECT MAX(id) FROM voucher_voids`)
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/voids/%d/approve", own), approver, map[string]string{}); r.Status != 403 ||
		r.Reason() != "second_officer_required" {
		t.Fatalf("approving one's own request: %d %s", r.Status, r.Raw)
	}
	// A rejected request leaves room for another, should new facts come.
	again := claimOne(t, e, c, "13800138003")
	if r := ask(maker, again.Code); r.Status != 201 {
		t.Fatalf("asking: %d %s", r.Status, r.Raw)
	}
	rejected := e.Count(t, `SELECT MAX(id) FROM voucher_voids`)
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/voids/%d/reject", rejected), approver, map[string]string{"note": "家庭成员代领，属正常"}); r.Status != 200 {
		t.Fatalf("rejecting: %d %s", r.Status, r.Raw)
	}
	if r := ask(maker, again.Code); r.Status != 201 {
		t.Fatalf("asking again after a rejection: %d %s", r.Status, r.Raw)
	}
	// Spent before the decision: the approval refuses and voids nothing.
	if r := redeem(t, e, e.CashierSession(t, e.Cashier), fresh.Code, "150", "k2"); r.Status != 201 {
		t.Fatal(r.Raw)
	}
	id := e.Count(t, `SELECT MIN(id) FROM voucher_voids`)
	if r := e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/officer/voids/%d/approve", id), approver, map[string]string{}); r.Status != 409 ||
		r.Reason() != "voucher_not_voidable" {
		t.Fatalf("approving a void of a voucher spent meanwhile: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers WHERE voided_at IS NOT NULL`); n != 0 {
		t.Fatal("a spent voucher was voided")
	}
}
