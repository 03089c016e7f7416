package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
)

// feedbackResident signs a resident in, claims a voucher of c for them
// and returns it with a page browser holding their session.
func feedbackResident(t *testing.T, e *apptest.Env, c app.Campaign, phone string) (app.Resident, app.Voucher, *authzBrowser, string) {
	t.Helper()
	r, tok := e.ResidentSession(t, phone)
	v, err := e.App.Claim(context.Background(), r, c.ID, c.Tiers[0].ID, "fb-"+phone)
	if err != nil {
		t.Fatal(err)
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_resident", tok)
	return r, v, b, tok
}

func feedbackCount(t *testing.T, e *apptest.Env) int64 {
	t.Helper()
	return e.Count(t, `SELECT COUNT(*) FROM feedback`)
}

// TestResidentFilesFeedbackOnTheirOwnVoucher: a complaint tied to one of
// the resident's own vouchers goes to the district of its campaign and is
// tied to its redemption; another resident's voucher does not exist for
// them; bad input is refused in Chinese and writes nothing (no record,
// no audit row).
func TestResidentFilesFeedbackOnTheirOwnVoucher(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	camp := e.LiveCampaign(t, apptest.CampaignSpec{Name: "解放碑火锅节"})
	_, v, alice, _ := feedbackResident(t, e, camp, "13812341234")
	_, _, bob, _ := feedbackResident(t, e, camp, "13998765432")
	cashier := e.CashierSession(t, e.Cashier)
	if r := e.API(t, http.MethodPost, "/api/v1/cashier/redemptions", cashier, map[string]string{"voucher": v.Token, "bill": "150"},
		"Idempotency-Key", "fb-till"); r.Status != http.StatusCreated {
		t.Fatalf("redeeming: %d %s", r.Status, r.Raw)
	}

	// The form offers the resident's own vouchers, the one asked for chosen.
	form := alice.do(t, http.MethodGet, "/m/feedback/new?voucher="+v.Code, nil)
	if form.status != http.StatusOK || !strings.Contains(form.body, `<option value="`+v.Code+`" selected>`) || !strings.Contains(form.body, "投诉商户") {
		t.Fatalf("the form: %d", form.status)
	}
	audits := func() int64 { return e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'feedback.file'`) }
	for _, bad := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no words", url.Values{"category": {"merchant"}, "voucher": {v.Code}, "body": {"   "}}, "必填"},
		{"too many words", url.Values{"category": {"merchant"}, "voucher": {v.Code}, "body": {strings.Repeat("贵", 501)}}, "最多 500 字"},
		{"no such category", url.Values{"category": {"praise"}, "voucher": {v.Code}, "body": {"好"}}, "请选择反馈类型"},
		{"no such district", url.Values{"category": {"other"}, "district": {"999999"}, "body": {"好"}}, "未知区县"},
		{"a control character", url.Values{"category": {"other"}, "district": {"500103"}, "body": {"a\x07b"}}, "输入含有无效字符"},
	} {
		if p := alice.do(t, http.MethodPost, "/m/feedback", bad.form); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, bad.want) {
			t.Errorf("%s: %d, want 422 with %q", bad.name, p.status, bad.want)
		}
	}
	// Bob names Alice's voucher: it does not exist for him.
	if p := bob.do(t, http.MethodPost, "/m/feedback", url.Values{"category": {"voucher"}, "voucher": {v.Code}, "body": {"这张券不能用"}}); p.status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.body, "券码不存在") {
		t.Errorf("another resident's voucher: %d", p.status)
	}
	if n := feedbackCount(t, e); n != 0 || audits() != 0 {
		t.Fatalf("refused filings wrote %d records, %d audit rows", n, audits())
	}

	p := alice.do(t, http.MethodPost, "/m/feedback", url.Values{"category": {"merchant"}, "voucher": {v.Code}, "district": {"500105"},
		"body": {"收银员说要加收服务费才收券。"}})
	if p.status != http.StatusSeeOther || p.location != "/m/feedback" {
		t.Fatalf("filing: %d → %q %.300s", p.status, p.location, p.body)
	}
	// The voucher decides the district, not the district field.
	if n := e.Count(t, `SELECT COUNT(*) FROM feedback f JOIN redemptions r ON r.id = f.redemption_id
		WHERE f.district_code = '500103' AND f.voucher_id = ? AND f.status = 'open' AND r.voucher_id = f.voucher_id`, v.ID); n != 1 {
		t.Fatalf("records tied to the voucher and its redemption in 渝中: %d, want 1", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'feedback.file' AND district_code = '500103' AND after_json NOT LIKE '%服务费%'`); n != 1 {
		t.Errorf("audit rows of the filing without its words: %d, want 1", n)
	}
	mine := alice.do(t, http.MethodGet, "/m/feedback", nil)
	for _, want := range []string{"已提交", "收银员说要加收服务费才收券。", "待处理", "解放碑火锅节", "解放碑老火锅"} {
		if !strings.Contains(mine.body, want) {
			t.Errorf("我的反馈 lacks %q", want)
		}
	}
	if other := bob.do(t, http.MethodGet, "/m/feedback", nil); strings.Contains(other.body, "服务费") {
		t.Error("another resident sees Alice's feedback")
	}
	// Untied, it goes to the district the resident chose.
	if p := bob.do(t, http.MethodPost, "/m/feedback", url.Values{"category": {"suggestion"}, "district": {"500105"}, "body": {"希望多一些小面店"}}); p.status != http.StatusSeeOther {
		t.Fatalf("untied filing: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM feedback WHERE district_code = '500105' AND voucher_id IS NULL AND category = 'suggestion'`); n != 1 {
		t.Errorf("untied records in 江北: %d, want 1", n)
	}
}

// TestOfficersOfTheDistrictAnswerAndCloseFeedback: the officers of the
// district that owns the record (and city-wide officers) see it, with
// the number and the voucher code masked; an officer of another district
// finds no such record; answering tells the resident (a badge on their
// pages until they read it, and a text message without the answer's
// words); closing ends it; every step is audited.
func TestOfficersOfTheDistrictAnswerAndCloseFeedback(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	admin := e.NewOfficer(t, "cityadmin", app.CityCode, true)
	jbOfficer := e.NewOfficer(t, "jb-officer", "500105", true)
	auditor := e.NewAuditor(t, "yz-auditor", "500103")
	camp := e.LiveCampaign(t, apptest.CampaignSpec{Name: "解放碑火锅节"})
	const phone = "13812341234"
	_, v, resident, _ := feedbackResident(t, e, camp, phone)
	if p := resident.do(t, http.MethodPost, "/m/feedback", url.Values{"category": {"voucher"}, "voucher": {v.Code}, "body": {"扫码提示券已过期"}}); p.status != http.StatusSeeOther {
		t.Fatalf("filing: %d", p.status)
	}
	id := e.Count(t, `SELECT MAX(id) FROM feedback`)
	record := "/officer/feedback/" + strconv.FormatInt(id, 10)
	browser := func(o app.Officer) *authzBrowser {
		b := authzNewBrowser(t, e)
		b.setCookie("cqv_officer", officerToken(t, e, o))
		return b
	}
	yz, jb, city, au := browser(e.Maker), browser(jbOfficer), browser(admin), browser(auditor)

	list := yz.do(t, http.MethodGet, "/officer/feedback", nil)
	for _, want := range []string{"扫码提示券已过期", "138****1234", "待处理", `href="` + record + `"`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("the 渝中 list lacks %q", want)
		}
	}
	if strings.Contains(list.body, phone) || strings.Contains(list.body, v.Code) || strings.Contains(list.body, v.Code[:4]+"-"+v.Code[4:8]) {
		t.Error("the list shows the full number or voucher code")
	}
	if p := city.do(t, http.MethodGet, "/officer/feedback", nil); !strings.Contains(p.body, "扫码提示券已过期") {
		t.Error("the city admin does not see the record")
	}
	if p := jb.do(t, http.MethodGet, "/officer/feedback", nil); strings.Contains(p.body, "扫码提示券已过期") {
		t.Error("an officer of another district sees the record in the list")
	}
	for _, step := range []struct{ method, path string }{{"GET", record}, {"POST", record + "/answer"}, {"POST", record + "/close"}} {
		if p := jb.do(t, step.method, step.path, url.Values{"answer": {"越权"}}); p.status != http.StatusNotFound {
			t.Errorf("%s %s by another district: %d, want 404", step.method, step.path, p.status)
		}
	}
	if p := au.do(t, http.MethodPost, record+"/answer", url.Values{"answer": {"只读"}}); p.status != http.StatusForbidden {
		t.Errorf("an auditor answering: %d, want 403", p.status)
	}
	if p := yz.do(t, http.MethodPost, record+"/answer", url.Values{"answer": {"  "}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "必填") {
		t.Errorf("an empty answer: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM feedback WHERE status = 'open' AND answer = ''`); n != 1 {
		t.Fatal("refused answers changed the record")
	}
	show := yz.do(t, http.MethodGet, record, nil)
	if show.status != http.StatusOK || !strings.Contains(show.body, "138****1234") || !strings.Contains(show.body, "解放碑火锅节") || strings.Contains(show.body, phone) {
		t.Fatalf("the record's page: %d", show.status)
	}
	if badge := resident.do(t, http.MethodGet, "/m/wallet", nil); strings.Contains(badge.body, `id="feedback-badge"`) {
		t.Fatal("a badge before any answer")
	}

	e.Clock.Advance(300 * time.Millisecond)
	if p := yz.do(t, http.MethodPost, record+"/answer", url.Values{"answer": {"已核实：券在有效期内，已要求商户重新核销。"}}); p.status != http.StatusSeeOther || p.location != record {
		t.Fatalf("answering: %d → %q", p.status, p.location)
	}
	if sms := e.SMS.Last(phone); !strings.Contains(sms, "我的反馈") || strings.Contains(sms, "已核实") {
		t.Errorf("the text message to the resident: %q", sms)
	}
	wallet := resident.do(t, http.MethodGet, "/m/wallet", nil)
	if !strings.Contains(wallet.body, `id="feedback-badge"`) || !strings.Contains(wallet.body, "1 条新答复") {
		t.Fatal("no badge on the resident's pages after the answer")
	}
	mine := resident.do(t, http.MethodGet, "/m/feedback", nil)
	for _, want := range []string{"已答复", "已核实：券在有效期内，已要求商户重新核销。", "新答复"} {
		if !strings.Contains(mine.body, want) {
			t.Errorf("我的反馈 lacks %q after the answer", want)
		}
	}
	if strings.Contains(mine.body, `id="feedback-badge"`) {
		t.Error("the page showing the answer still counts it unread")
	}
	if again := resident.do(t, http.MethodGet, "/m/wallet", nil); strings.Contains(again.body, `id="feedback-badge"`) {
		t.Error("the badge stays after the resident read the answer")
	}

	e.Clock.Advance(300 * time.Millisecond)
	if p := yz.do(t, http.MethodPost, record+"/close", nil); p.status != http.StatusSeeOther {
		t.Fatalf("closing: %d", p.status)
	}
	if p := yz.do(t, http.MethodPost, record+"/answer", url.Values{"answer": {"补充"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "已办结") {
		t.Errorf("answering a closed record: %d, want 409", p.status)
	}
	if p := yz.do(t, http.MethodPost, record+"/close", nil); p.status != http.StatusConflict {
		t.Errorf("closing twice: %d, want 409", p.status)
	}
	if p := resident.do(t, http.MethodGet, "/m/wallet", nil); !strings.Contains(p.body, `id="feedback-badge"`) {
		t.Error("closing is not news to the resident")
	}
	if p := resident.do(t, http.MethodGet, "/m/feedback", nil); !strings.Contains(p.body, "已办结") {
		t.Error("the resident does not see the record closed")
	}
	for _, action := range []string{"feedback.file", "feedback.answer", "feedback.close"} {
		if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND entity = 'feedback' AND entity_id = ? AND district_code = '500103'`, action, id); n != 1 {
			t.Errorf("%s audit rows: %d, want 1", action, n)
		}
	}
}

// TestFeedbackFilingIsLimitedPerDay: five filings a resident's day (on
// the App's clock, in Chongqing's days), the sixth refused without a
// record; the next day allows five more.
func TestFeedbackFilingIsLimitedPerDay(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	_, tok := e.ResidentSession(t, "13812341234")
	file := func() apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/feedback", tok, map[string]string{"category": "other", "district": "500103", "body": "意见"})
	}
	for i := 0; i < app.FeedbackDailyCap; i++ {
		if r := file(); r.Status != http.StatusCreated {
			t.Fatalf("filing %d: %d %s", i+1, r.Status, r.Raw)
		}
		e.Clock.Advance(250 * time.Millisecond)
	}
	if r := file(); r.Status != http.StatusTooManyRequests || r.Reason() != "feedback_too_frequent" {
		t.Fatalf("the sixth filing of the day: %d %s", r.Status, r.Raw)
	}
	if n := feedbackCount(t, e); n != int64(app.FeedbackDailyCap) {
		t.Fatalf("records = %d, want %d", n, app.FeedbackDailyCap)
	}
	// The page says so too.
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_resident", tok)
	if p := b.do(t, http.MethodPost, "/m/feedback", url.Values{"category": {"other"}, "district": {"500103"}, "body": {"再来"}}); p.status != http.StatusTooManyRequests ||
		!strings.Contains(p.body, "今天提交的反馈已达上限") {
		t.Errorf("the page at the limit: %d", p.status)
	}
	// Midnight in Chongqing (16:00 UTC), a quarter second past.
	now := e.Clock.Now().In(app.Shanghai)
	e.Clock.Set(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 250_000_000, app.Shanghai))
	if r := file(); r.Status != http.StatusCreated {
		t.Fatalf("the next day's filing: %d %s", r.Status, r.Raw)
	}
}

// TestFeedbackAPIAndErasure: the API files and lists a resident's own
// feedback (checked against openapi.json) and says which answers are
// unread; a resident who erases their data takes the words of their
// feedback with them, and the district keeps the record without them.
func TestFeedbackAPIAndErasure(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	camp := e.LiveCampaign(t, apptest.CampaignSpec{})
	r, v, _, tok := feedbackResident(t, e, camp, "13812341234")
	_, otherTok := e.ResidentSession(t, "13998765432")
	if res := e.API(t, http.MethodPost, "/api/v1/resident/feedback", otherTok, map[string]string{"category": "voucher", "voucher": v.Code, "body": "x"}); res.Status != http.StatusUnprocessableEntity ||
		res.Body["error"].(map[string]any)["fields"].(map[string]any)["voucher"] != "voucher_unknown" {
		t.Fatalf("another resident's voucher by API: %d %s", res.Status, res.Raw)
	}
	res := e.API(t, http.MethodPost, "/api/v1/resident/feedback", tok, map[string]string{"category": "voucher", "voucher": v.Code, "body": "二维码扫不出来"})
	if res.Status != http.StatusCreated || res.Body["district"] != "500103" || res.Body["status"] != "open" || res.Body["voucher_code"] != v.Code {
		t.Fatalf("filing by API: %d %s", res.Status, res.Raw)
	}
	id := int64(res.Body["id"].(float64))
	if err := e.App.AnswerFeedback(context.Background(), e.Maker, id, "请让收银员输入券码。"); err != nil {
		t.Fatal(err)
	}
	list := e.API(t, http.MethodGet, "/api/v1/resident/feedback", tok, nil)
	items, _ := list.Body["feedback"].([]any)
	if list.Status != http.StatusOK || len(items) != 1 {
		t.Fatalf("listing: %d %s", list.Status, list.Raw)
	}
	if item := items[0].(map[string]any); item["answer"] != "请让收银员输入券码。" || item["unread"] != true || item["status"] != "answered" {
		t.Errorf("the listed record: %v", item)
	}
	if again := e.API(t, http.MethodGet, "/api/v1/resident/feedback", tok, nil); again.Body["feedback"].([]any)[0].(map[string]any)["unread"] != false {
		t.Error("an answer read once is still unread")
	}
	if n := len(e.API(t, http.MethodGet, "/api/v1/resident/feedback", otherTok, nil).Body["feedback"].([]any)); n != 0 {
		t.Errorf("another resident lists %d records", n)
	}
	// What the product keeps about the resident includes their feedback,
	// in the data export and on 我的信息; another resident's shows none.
	me := e.API(t, http.MethodGet, "/api/v1/resident/me", tok, nil)
	if kept, _ := me.Body["feedback"].([]any); me.Status != http.StatusOK || len(kept) != 1 || kept[0].(map[string]any)["body"] != "二维码扫不出来" {
		t.Errorf("GET /api/v1/resident/me: %d, feedback %v", me.Status, me.Body["feedback"])
	}
	if other, _ := e.API(t, http.MethodGet, "/api/v1/resident/me", otherTok, nil).Body["feedback"].([]any); len(other) != 0 {
		t.Errorf("another resident's data export lists %d feedback records", len(other))
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_resident", tok)
	if page := b.do(t, http.MethodGet, "/m/me", nil); !strings.Contains(page.body, `id="me-feedback"`) || !strings.Contains(page.body, "已答复") {
		t.Errorf("我的信息 does not list the feedback:\n%.1500s", page.body)
	}

	if res := e.API(t, http.MethodPost, "/api/v1/resident/me/erasure", tok, map[string]any{"confirm": true}); res.Status != http.StatusOK {
		t.Fatalf("erasure: %d %s", res.Status, res.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM feedback WHERE resident_id = ? AND body = '' AND answer = '' AND status = 'answered'`, r.ID); n != 1 {
		t.Fatal("the erased resident's feedback keeps its words")
	}
	f, err := e.App.FeedbackFor(context.Background(), e.Maker, id)
	if err != nil || f.MaskedPhone != "—" {
		t.Errorf("the officer's view of an erased resident's record: %q %v", f.MaskedPhone, err)
	}
}
