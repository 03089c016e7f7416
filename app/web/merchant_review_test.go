package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// applyMerchant files an application as a merchant does, so its phone
// and account are sealed and its USCC checked.
func applyMerchant(t *testing.T, e *apptest.Env, name, district, uscc, owner string) app.Merchant {
	t.Helper()
	m, err := e.App.Apply(context.Background(), app.MerchantApplication{
		Name: name, USCC: uscc, Category: "catering", District: district, Address: "渝中区十八梯 1 号",
		ContactName: "刘芳", ContactPhone: "138 0013 8001", SettlementAccount: "6222 0212 3456 7890 123",
		OwnerUsername: owner, OwnerPassword: "a-long-password",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func merchantStatus(t *testing.T, e *apptest.Env, id int64) string {
	t.Helper()
	m, err := e.Store.MerchantByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func itoa(n int64) string { return fmt.Sprint(n) }

var merchantRow = regexp.MustCompile(`<tr id="merchant-(\d+)">`)

// merchantRows are the ids of the list's rows, in order.
func merchantRows(body string) []string {
	var out []string
	for _, m := range merchantRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestMerchantListPendingFirstWithFiltersAndPages: the review list puts
// pending applications first, then suspended, approved and rejected
// merchants; it filters by status, district (city officers only) and name
// or USCC, pages 50 at a time, and has no form that acts.
func TestMerchantListPendingFirstWithFiltersAndPages(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	rejected := applyMerchant(t, e, "较场口面馆", "500103", "91350100M000100Y43", "jckmg")
	if err := e.App.ReviewMerchant(ctx, e.Maker, rejected.ID, "reject", "营业执照照片不清晰"); err != nil {
		t.Fatal(err)
	}
	suspended := e.NewMerchant(t, "十八梯抄手", "500103", "catering")
	if err := e.App.ReviewMerchant(ctx, e.Maker, suspended.ID, "suspend", "投诉核查中"); err != nil {
		t.Fatal(err)
	}
	pending := applyMerchant(t, e, "洪崖洞小面", "500103", "91500103MA5U8XXX1K", "hyd")
	jiangbei := applyMerchant(t, e, "观音桥豌杂小面", "500105", "91350100M000100Y43", "gyq")

	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	p := maker.do(t, http.MethodGet, "/officer/merchants", nil)
	want := []string{itoa(pending.ID), itoa(suspended.ID), itoa(e.Merchant.ID), itoa(rejected.ID)}
	if p.status != 200 || fmt.Sprint(merchantRows(p.body)) != fmt.Sprint(want) {
		t.Fatalf("the list: %d, rows %v, want %v (pending, suspended, approved, rejected; no other district)", p.status, merchantRows(p.body), want)
	}
	if strings.Contains(p.body, `method="post" action="/officer/merchants`) {
		t.Error("the list has a form that acts: decisions go through their confirmation")
	}
	if !strings.Contains(p.body, fmt.Sprintf(`href="/officer/merchants/%d"`, pending.ID)) || !strings.Contains(p.body, `id="tab-pending"`) {
		t.Error("the list links no merchant's file, or has no status tabs")
	}
	for _, c := range []struct{ query, want string }{
		{"?status=suspended", itoa(suspended.ID)},
		{"?status=pending", itoa(pending.ID)},
		{"?q=" + url.QueryEscape("十八梯"), itoa(suspended.ID)},
		{"?q=91500103ma5u", itoa(pending.ID)},                  // the start of a USCC, as typed
		{"?district=500105", fmt.Sprint(merchantRows(p.body))}, // a district officer's own district, whatever they ask
	} {
		got := maker.do(t, http.MethodGet, "/officer/merchants"+c.query, nil)
		if rows := fmt.Sprint(merchantRows(got.body)); got.status != 200 || strings.Trim(rows, "[]") != strings.Trim(c.want, "[]") {
			t.Errorf("%s: %d rows %s, want %s", c.query, got.status, rows, c.want)
		}
	}
	if p := maker.do(t, http.MethodGet, "/officer/merchants?status=closed", nil); p.status != 422 || !strings.Contains(p.body, "未知状态") {
		t.Errorf("an unknown status: %d", p.status)
	}

	// A city officer sees every district, or the one chosen.
	city := authzNewBrowser(t, e)
	city.setCookie("cqv_officer", officerToken(t, e, e.NewOfficer(t, "city", app.CityCode, true)))
	if p := city.do(t, http.MethodGet, "/officer/merchants?status=pending", nil); fmt.Sprint(merchantRows(p.body)) != fmt.Sprint([]string{itoa(pending.ID), itoa(jiangbei.ID)}) {
		t.Errorf("the city's pending applications: %v", merchantRows(p.body))
	}
	if p := city.do(t, http.MethodGet, "/officer/merchants?district=500105", nil); fmt.Sprint(merchantRows(p.body)) != fmt.Sprint([]string{itoa(jiangbei.ID)}) ||
		!strings.Contains(p.body, `<option value="500105" selected>`) {
		t.Errorf("江北's merchants for the city: %v", merchantRows(p.body))
	}

	// 60 more approved merchants: two pages, pending still on top of the first.
	for i := range 60 {
		e.NewMerchant(t, fmt.Sprintf("渝中商户%02d", i), "500103", "catering")
	}
	first := maker.do(t, http.MethodGet, "/officer/merchants", nil)
	rows := merchantRows(first.body)
	if len(rows) != app.MerchantPageSize || rows[0] != itoa(pending.ID) || !strings.Contains(first.body, "第 1 / 2 页，共 64 家") ||
		!strings.Contains(first.body, `id="page-next"`) || strings.Contains(first.body, `id="page-prev"`) {
		t.Fatalf("page 1: %d rows from %v\n%s", len(rows), rows[:1], first.body)
	}
	second := maker.do(t, http.MethodGet, "/officer/merchants?page=2", nil)
	rows2 := merchantRows(second.body)
	if len(rows2) != 14 || rows2[len(rows2)-1] != itoa(rejected.ID) || !strings.Contains(second.body, "第 2 / 2 页") || !strings.Contains(second.body, `id="page-prev"`) {
		t.Fatalf("page 2: %d rows, last %v", len(rows2), rows2)
	}
	onFirst := map[string]bool{}
	for _, id := range rows {
		onFirst[id] = true
	}
	for _, id := range rows2 {
		if onFirst[id] {
			t.Fatalf("merchant %s on both pages", id)
		}
	}
	// The filtered list pages too, and its links keep the filter.
	if p := maker.do(t, http.MethodGet, "/officer/merchants?status=approved", nil); !strings.Contains(p.body, `href="/officer/merchants?page=2&amp;status=approved"`) {
		t.Errorf("the next page of the approved merchants does not keep the filter")
	}

	// The API reads the same list with the same filters.
	r := e.API(t, http.MethodGet, "/api/v1/officer/merchants?status=pending&district=500105", officerToken(t, e, e.Maker), nil)
	if list, _ := r.Body["merchants"].([]any); r.Status != 200 || len(list) != 1 || r.Body["total"] != float64(1) {
		t.Fatalf("the API's pending list: %d %s", r.Status, r.Raw)
	}
	r = e.API(t, http.MethodGet, "/api/v1/officer/merchants?limit=10&offset=60", officerToken(t, e, e.Maker), nil)
	if list, _ := r.Body["merchants"].([]any); r.Status != 200 || len(list) != 4 || r.Body["total"] != float64(64) {
		t.Fatalf("the API's last page: %d %s", r.Status, r.Raw)
	}
}

// TestMerchantFileShowsWhatToVerify: a merchant's file shows the USCC's
// checksum result, the contact's number whole to an officer who decides
// and masked to an auditor, the settlement account masked, and the
// decisions as links to their confirmations, none for an auditor. Another
// district's merchant does not exist.
func TestMerchantFileShowsWhatToVerify(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	good := applyMerchant(t, e, "十八梯抄手", "500103", "91350100M000100Y43", "shibati")
	bad := applyMerchant(t, e, "较场口面馆", "500103", "91350100M000100Y44", "jcklm")

	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	p := maker.do(t, http.MethodGet, fmt.Sprintf("/officer/merchants/%d", good.ID), nil)
	if p.status != 200 || !strings.Contains(p.body, "91350100M000100Y43") || !strings.Contains(p.body, "校验码正确") {
		t.Fatalf("the file of a good USCC: %d\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, "6222 **** **** 0123") || strings.Contains(p.body, "62220212345") {
		t.Error("the settlement account is not shown masked")
	}
	if !strings.Contains(p.body, `id="contact-phone">13800138001<`) {
		t.Error("the deciding officer does not see the contact's number to call")
	}
	for _, a := range []string{"approve", "reject"} {
		if !strings.Contains(p.body, fmt.Sprintf(`href="/officer/merchants/%d/confirm/%s"`, good.ID, a)) {
			t.Errorf("no link to confirm %s", a)
		}
	}
	if strings.Contains(p.body, "/confirm/suspend") || strings.Contains(p.body, `method="post" action="/officer/merchants`) {
		t.Error("the file offers suspending a pending application, or acts without a confirmation")
	}
	if p := maker.do(t, http.MethodGet, fmt.Sprintf("/officer/merchants/%d", bad.ID), nil); !strings.Contains(p.body, "校验码不符，请人工核对营业执照") {
		t.Errorf("the file of a USCC failing its checksum: %d", p.status)
	}

	auditor := authzNewBrowser(t, e)
	auditor.setCookie("cqv_officer", officerToken(t, e, e.NewAuditor(t, "yz-auditor", "500103")))
	p = auditor.do(t, http.MethodGet, fmt.Sprintf("/officer/merchants/%d", good.ID), nil)
	if p.status != 200 || !strings.Contains(p.body, `id="contact-phone">138****8001<`) || strings.Contains(p.body, "/confirm/") {
		t.Fatalf("the auditor's view: %d, masked phone and no decisions expected\n%s", p.status, p.body)
	}
	if p := auditor.do(t, http.MethodGet, fmt.Sprintf("/officer/merchants/%d/confirm/approve", good.ID), nil); p.status != 403 {
		t.Errorf("an auditor's confirmation page: %d", p.status)
	}
	if p := auditor.do(t, http.MethodPost, fmt.Sprintf("/officer/merchants/%d/approve", good.ID), url.Values{}); p.status != 403 {
		t.Errorf("an auditor approves: %d", p.status)
	}
	if got := merchantStatus(t, e, good.ID); got != app.MerchantPending {
		t.Fatalf("after the auditor: %s", got)
	}

	jiangbei := authzNewBrowser(t, e)
	jiangbei.setCookie("cqv_officer", officerToken(t, e, e.NewOfficer(t, "jiangbei", "500105", true)))
	for _, path := range []string{"", "/confirm/approve"} {
		if p := jiangbei.do(t, http.MethodGet, fmt.Sprintf("/officer/merchants/%d%s", good.ID, path), nil); p.status != 404 {
			t.Errorf("another district's officer opens %q: %d", path, p.status)
		}
	}
	if p := jiangbei.do(t, http.MethodPost, fmt.Sprintf("/officer/merchants/%d/approve", good.ID), url.Values{}); p.status != 404 {
		t.Errorf("another district's officer approves: %d", p.status)
	}
	if p := maker.do(t, http.MethodGet, fmt.Sprintf("/officer/merchants/%d/confirm/delete", good.ID), nil); p.status != 404 {
		t.Errorf("the confirmation of no action: %d", p.status)
	}
}

// TestMerchantDecisionsAreConfirmed: each decision's confirmation says
// what it will do and changes nothing; rejection and suspension without a
// reason are refused on that page, in Chinese, and change nothing; with a
// reason they go through and the reason is in the merchant's history.
func TestMerchantDecisionsAreConfirmed(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	m := applyMerchant(t, e, "十八梯抄手", "500103", "91350100M000100Y43", "shibati")
	other := applyMerchant(t, e, "较场口面馆", "500103", "91350100M000100Y43", "jcklm")
	file := fmt.Sprintf("/officer/merchants/%d", m.ID)
	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	audits := func() int64 {
		return e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE entity = 'merchant'`)
	}

	p := maker.do(t, http.MethodGet, file+"/confirm/approve", nil)
	if p.status != 200 || !strings.Contains(p.body, "审核通过「十八梯抄手」") || !strings.Contains(p.body, "确认通过") ||
		!strings.Contains(p.body, fmt.Sprintf(`action="%s/approve"`, file)) {
		t.Fatalf("the approval's confirmation: %d\n%s", p.status, p.body)
	}
	if merchantStatus(t, e, m.ID) != app.MerchantPending {
		t.Fatal("the confirmation page approved")
	}
	if p := maker.do(t, http.MethodPost, file+"/approve", url.Values{}); p.status != http.StatusSeeOther || p.location != file {
		t.Fatalf("the confirmed approval: %d → %s", p.status, p.location)
	}
	if got := merchantStatus(t, e, m.ID); got != app.MerchantApproved {
		t.Fatalf("after the approval: %s", got)
	}

	p = maker.do(t, http.MethodGet, file+"/confirm/suspend", nil)
	if p.status != 200 || !strings.Contains(p.body, "暂停后该商户的收银员将不能核销消费券；已核销的款项照常结算") ||
		!strings.Contains(p.body, "共有 1 个收银员账号") || !strings.Contains(p.body, "暂停理由") || strings.Contains(p.body, "驳回理由") {
		t.Fatalf("the suspension's confirmation: %d\n%s", p.status, p.body)
	}
	before := audits()
	p = maker.do(t, http.MethodPost, file+"/suspend", url.Values{"reason": {"  "}})
	if p.status != 422 || !strings.Contains(p.body, "请填写理由") || !strings.Contains(p.body, "暂停理由") || !strings.Contains(p.body, `id="confirm-action"`) {
		t.Fatalf("a suspension without a reason: %d\n%s", p.status, p.body)
	}
	if merchantStatus(t, e, m.ID) != app.MerchantApproved || audits() != before {
		t.Fatal("a refused suspension changed something")
	}
	const why = "多名居民投诉虚假交易，暂停核销待查"
	if p := maker.do(t, http.MethodPost, file+"/suspend", url.Values{"reason": {why}}); p.status != http.StatusSeeOther {
		t.Fatalf("the suspension with a reason: %d %s", p.status, p.body)
	}
	p = maker.do(t, http.MethodGet, file, nil)
	if merchantStatus(t, e, m.ID) != app.MerchantSuspended || !strings.Contains(p.body, why) || !strings.Contains(p.body, "暂停商户") ||
		!strings.Contains(p.body, "/confirm/reinstate") {
		t.Fatalf("the file after the suspension:\n%s", p.body)
	}
	if p := maker.do(t, http.MethodPost, file+"/approve", url.Values{}); p.status != 409 || !strings.Contains(p.body, "商户当前状态不能进行此操作") {
		t.Errorf("approving a suspended merchant: %d", p.status)
	}

	otherFile := fmt.Sprintf("/officer/merchants/%d", other.ID)
	p = maker.do(t, http.MethodPost, otherFile+"/reject", url.Values{})
	if p.status != 422 || !strings.Contains(p.body, "请填写理由") || !strings.Contains(p.body, "驳回理由") {
		t.Fatalf("a rejection without a reason: %d\n%s", p.status, p.body)
	}
	if merchantStatus(t, e, other.ID) != app.MerchantPending {
		t.Fatal("a refused rejection changed the merchant")
	}
	const rejectWhy = "营业执照照片不清晰，请重新拍摄"
	if p := maker.do(t, http.MethodPost, otherFile+"/reject", url.Values{"reason": {rejectWhy}}); p.status != http.StatusSeeOther {
		t.Fatalf("the rejection with a reason: %d", p.status)
	}
	if p := maker.do(t, http.MethodGet, otherFile, nil); !strings.Contains(p.body, rejectWhy) || !strings.Contains(p.body, "驳回商户") || strings.Contains(p.body, "/confirm/") {
		t.Errorf("the file after the rejection:\n%s", p.body)
	}
}
