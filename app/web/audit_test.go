package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/templates"
)

// auditText is a page's text without its tags, as a reader reads it.
func auditText(body string) string { return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(body, "") }

// TestAuditPageSaysWhatHappened: a campaign is made, edited, submitted,
// approved with an opinion and given a larger budget through the pages;
// the audit log says each step as a sentence with the local time, the
// officer's name and role and the campaign's name, linked; the approver's
// opinion; and what changed, labelled, money in yuan. Its filters by
// action and by officer narrow the rows; English says the same.
func TestAuditPageSaysWhatHappened(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	zhang := e.NewNamedOfficer(t, "zhang.san", "张三", "500103", false)
	li := e.NewNamedOfficer(t, "li.si", "李四", "500103", true)
	e.Clock.Set(time.Date(2026, 11, 28, 1, 55, 0, 0, time.UTC)) // 09:55 in Chongqing
	in := authzCampaignInput(e)
	in.Name, in.Budget = "渝味360碗·火锅季", "10000"
	c, err := e.App.CreateCampaign(ctx, zhang, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Budget = "20,000"
	if _, err := e.App.UpdateDraft(ctx, zhang, c.ID, in); err != nil {
		t.Fatal(err)
	}
	campaign := fmt.Sprintf("/officer/campaigns/%d", c.ID)
	maker := authzNewBrowser(t, e)
	maker.setCookie("cqv_officer", officerToken(t, e, zhang))
	approver := authzNewBrowser(t, e)
	approver.setCookie("cqv_officer", officerToken(t, e, li))
	post := func(b *authzBrowser, path string, form url.Values) {
		t.Helper()
		if p := b.do(t, http.MethodPost, path, form); p.status != http.StatusSeeOther || p.location != campaign {
			t.Fatalf("POST %s: %d to %s\n%s", path, p.status, p.location, p.body)
		}
	}
	post(maker, campaign+"/submit", nil)
	e.Clock.Set(time.Date(2026, 11, 28, 2, 3, 0, 0, time.UTC)) // 10:03
	post(approver, campaign+"/approve", url.Values{"opinion": {"预算与方案一致"}})
	e.Clock.Advance(2 * time.Minute) // officers' sessions end after 15 idle minutes
	post(maker, campaign+"/budget", url.Values{"budget": {"25,000"}})
	post(approver, campaign+"/budget/approve", nil)

	p := maker.do(t, http.MethodGet, "/officer/audit", nil)
	text := auditText(p.body)
	for _, want := range []string{
		"2026-11-28 10:03 李四（区县财政人员，审批人）批准了活动「渝味360碗·火锅季」，审批意见：预算与方案一致",
		"张三（区县财政人员）创建了活动「渝味360碗·火锅季」",
		"张三（区县财政人员）修改了活动「渝味360碗·火锅季」的草稿",
		"预算：¥10,000.00 → ¥20,000.00",
		"2026-11-28 10:05 张三（区县财政人员）为活动「渝味360碗·火锅季」申请追加预算（待审批）",
		"预算：¥20,000.00 → ¥25,000.00",
		"李四（区县财政人员，审批人）批准了活动「渝味360碗·火锅季」的追加预算",
		"状态：待审批 → 已审批",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the audit page does not say %q", want)
		}
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, `<a href="`+campaign+`">活动「渝味360碗·火锅季」</a>`) {
		t.Fatalf("the audit page (%d) does not link the campaign by its name:\n%s", p.status, p.body)
	}
	for _, raw := range []string{`{"status"`, "budget_fen", "campaign.approve", "2026-11-28T", "[{"} {
		if strings.Contains(strings.ReplaceAll(text, "&#34;", `"`), raw) {
			t.Errorf("the audit page shows the stored form %q", raw)
		}
	}
	// The filters: actions by name, officers by name.
	for _, want := range []string{`<option value="campaign.approve">审批通过</option>`, `<option value="li.si">李四 (li.si)</option>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the filters do not offer %s", want)
		}
	}

	text = auditText(maker.do(t, http.MethodGet, "/officer/audit?action=campaign.approve", nil).body)
	if !strings.Contains(text, "批准了活动「渝味360碗·火锅季」，审批意见") || strings.Contains(text, "的追加预算") ||
		strings.Contains(text, "创建了活动") || strings.Contains(text, "提交审批\n") {
		t.Errorf("filtered by 审批通过, the page shows other actions:\n%s", text)
	}
	text = auditText(maker.do(t, http.MethodGet, "/officer/audit?actor=li.si&from=2026-11-28&to=2026-11-28", nil).body)
	if strings.Contains(text, "张三（") || !strings.Contains(text, "李四（区县财政人员，审批人）批准了活动") {
		t.Errorf("filtered by 李四, the page shows other officers' rows or not theirs:\n%s", text)
	}
	if text = auditText(maker.do(t, http.MethodGet, "/officer/audit?actor=li.si&from=2026-11-29", nil).body); strings.Contains(text, "李四（") {
		t.Errorf("filtered from the day after, the page shows the day's rows")
	}

	maker.setCookie("lang", "en")
	text = auditText(maker.do(t, http.MethodGet, "/officer/audit", nil).body)
	for _, want := range []string{
		"2026-11-28 10:03 李四 (District officer, approver) approved campaign “渝味360碗·火锅季”; opinion: 预算与方案一致",
		"Budget: ¥20,000.00 → ¥25,000.00",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the English audit page does not say %q", want)
		}
	}
}

// TestAuditActionsHaveNames: every action code the product writes has a
// short name (the filter) and a sentence in each language, and the
// languages have the same messages.
func TestAuditActionsHaveNames(t *testing.T) {
	zh, en := messages(t, "zh"), messages(t, "en")
	for _, a := range app.AuditActions {
		key := strings.ReplaceAll(a, ".", "_")
		for _, k := range []string{"audit." + key, "audit.line." + key, "audit.area_" + strings.SplitN(a, ".", 2)[0]} {
			if zh[k] == "" || en[k] == "" {
				t.Errorf("%s: %s missing (zh %q, en %q)", a, k, zh[k], en[k])
			}
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("%s is in zh.json only", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%s is in en.json only", k)
		}
	}
}

// messages reads one language's messages as shipped.
func messages(t *testing.T, lang string) map[string]string {
	t.Helper()
	body, err := fs.ReadFile(templates.FS, "i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
