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

// helpContact writes a district's contact through the domain, as its officer would.
func helpContact(t *testing.T, e *apptest.Env, by app.Officer, district, office, hotline string) {
	t.Helper()
	if _, err := e.App.SaveContact(context.Background(), by, district, app.ContactInput{
		OfficeName: office, Hotline: hotline, OfficeHours: "工作日 9:00–17:30"}); err != nil {
		t.Fatalf("contact of %s: %v", district, err)
	}
}

// TestHelpPagesSayEachCampaignsRulesAndWhomToCall: the general help page
// lists every district's hotline; a campaign's help page says its rules
// as stored (tiers, drops, limits, validity, where), lists where it can be
// used, searchable by name and district, and gives the organising
// district's hotline and office hours (the city's when the district has
// none). Both languages.
func TestHelpPagesSayEachCampaignsRulesAndWhomToCall(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	admin := e.NewOfficer(t, "cityadmin", app.CityCode, true)
	helpContact(t, e, e.Maker, "500103", "渝中区商务委员会", "023-6380 0103")
	helpContact(t, e, admin, app.CityCode, "重庆市商务委员会", "12345")
	drops := e.TwoDrops(t, "解放碑火锅节", 50, true)
	e.NewMerchant(t, "较场口小面", "500103", "catering")
	e.NewMerchant(t, "观音桥豌杂", "500105", "catering") // another district: not eligible for a 渝中 campaign
	b := authzNewBrowser(t, e)

	general := b.do(t, http.MethodGet, "/m/help", nil)
	for _, want := range []string{"使用帮助", "10:00", "23:59:59", "满 100 减 30", "每笔消费只能用 1 张券", "撤销核销",
		"收银员拒收了怎么办", "常见问题", "渝中区商务委员会", `href="tel:02363800103"`, "12345", "工作日 9:00–17:30",
		`href="/m/campaigns/` + strconv.FormatInt(drops.ID, 10) + `/help"`} {
		if !strings.Contains(general.body, want) {
			t.Errorf("/m/help lacks %q", want)
		}
	}

	path := "/m/campaigns/" + strconv.FormatInt(drops.ID, 10) + "/help"
	p := b.do(t, http.MethodGet, path, nil)
	if p.status != http.StatusOK {
		t.Fatalf("campaign help: %d", p.status)
	}
	for _, want := range []string{
		"满 100 元减 30 元：一笔消费满 100 元可用，共 100 张。",
		"开抢时间：2026-11-25 10:00、2026-11-25 10:01", // two drops a minute apart are listed, not "daily"
		"上一场没领完的券顺延到下一场。", "每人限领 1 张。",
		"自领取当天起 3 天内有效（含领取当天），到第 3 天 23:59:59 为止。",
		"限渝中区内的可用商户使用。", "适用类别：餐饮", "单笔消费金额超过 ¥100,000.00 时不能用券",
		"解放碑老火锅", "较场口小面", "渝中区商务委员会", "023-6380 0103",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("campaign help lacks %q", want)
		}
	}
	if strings.Contains(p.body, "观音桥豌杂") {
		t.Error("campaign help lists a merchant of another district")
	}
	if found := b.do(t, http.MethodGet, path+"?q="+url.QueryEscape("小面"), nil); !strings.Contains(found.body, "较场口小面") || strings.Contains(found.body, "解放碑老火锅") {
		t.Error("the search by name does not narrow the list")
	}
	if none := b.do(t, http.MethodGet, path+"?district=500105", nil); strings.Contains(none.body, "解放碑老火锅") || !strings.Contains(none.body, "共 2 家可用商户，当前显示 0 家") {
		t.Error("the district filter does not narrow the list")
	}

	// A district without a contact of its own: the city's number is given.
	jb := e.LiveCampaign(t, apptest.CampaignSpec{Name: "江北嘉年华", District: "500105"})
	if jbHelp := b.do(t, http.MethodGet, "/m/campaigns/"+strconv.FormatInt(jb.ID, 10)+"/help", nil); !strings.Contains(jbHelp.body, "重庆市商务委员会") ||
		!strings.Contains(jbHelp.body, "共 1 家可用商户") {
		t.Errorf("a district without a contact: the city's is not given (%d)", jbHelp.status)
	}
	// A draft is no one's business.
	draft, err := e.App.CreateCampaign(context.Background(), e.Maker, app.InputOf(drops))
	if err != nil {
		t.Fatal(err)
	}
	if p := b.do(t, http.MethodGet, "/m/campaigns/"+strconv.FormatInt(draft.ID, 10)+"/help", nil); p.status != http.StatusNotFound {
		t.Errorf("a draft's help page: %d, want 404", p.status)
	}

	b.setCookie("lang", "en")
	en := b.do(t, http.MethodGet, path, nil)
	for _, want := range []string{"¥30 off a bill of ¥100 or more; 100 vouchers in all.", "Up to 1 per person.", "Valid for 3 days", "Office hours"} {
		if !strings.Contains(en.body, want) {
			t.Errorf("English campaign help lacks %q", want)
		}
	}
	if enGeneral := b.do(t, http.MethodGet, "/m/help", nil); !strings.Contains(enGeneral.body, "If a cashier refuses your voucher") {
		t.Error("English help lacks its text")
	}
}

// TestCampaignRulesFollowTheSettings: the rule lines come from the
// settings: a daily drop schedule is said as one line, a fixed-value
// tier has no threshold, same-day validity says so, a city-wide campaign
// is accepted everywhere, and per-day and per-tier limits and real names
// appear only when set.
func TestCampaignRulesFollowTheSettings(t *testing.T) {
	c := app.Campaign{
		District: app.CityCode, Categories: []string{"catering", "sports"}, ReleaseMode: app.ReleaseDrops,
		ValidityMode: app.ValidityDays, ValidDays: 1, PerResidentLimit: 3, PerDayLimit: 1, RequireRealName: true,
		Tiers: []app.Tier{{FaceFen: 2000, Quantity: 10}},
	}
	for day := 25; day <= 27; day++ {
		at := mustTime(t, "2026-11-"+strconv.Itoa(day)+"T10:00:00+08:00")
		c.Drops = append(c.Drops, app.Drop{OpensAt: at}, app.Drop{OpensAt: at}) // two tiers, one time
	}
	keys := map[string]map[string]string{}
	for _, r := range app.CampaignRules(c, mustTime(t, "2026-11-25T12:00:00+08:00")) {
		keys[r.Key] = r.Params
	}
	if p, ok := keys["drops_daily"]; !ok || p["at"] != "10:00" || p["from"] != "2026-11-25" || p["until"] != "2026-11-27" {
		t.Errorf("daily drops: %v", keys["drops_daily"])
	}
	if p := keys["drops_next"]; p["at"] != "2026-11-26 10:00" {
		t.Errorf("next drop: %v", p)
	}
	for _, want := range []string{"tier_fixed", "valid_same_day", "where_city", "limit_day", "real_name", "drops_lapse"} {
		if _, ok := keys[want]; !ok {
			t.Errorf("no %s line: %v", want, keys)
		}
	}
	for _, not := range []string{"tier_threshold", "limit_tier", "where_district", "release_once", "drops_rollover", "recycle"} {
		if _, ok := keys[not]; ok {
			t.Errorf("a %s line for a campaign without it", not)
		}
	}
}

// TestOfficerKeepsTheirDistrictsContact: a district officer writes their
// own district's contact on the officer page (audited, before and after),
// another district's does not exist for them, a city admin writes any;
// an auditor writes none; a hotline nobody can dial, an over-long name, a
// line break or a control character is refused with the reason in
// Chinese, and nothing is written.
func TestOfficerKeepsTheirDistrictsContact(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	admin := e.NewOfficer(t, "cityadmin", app.CityCode, true)
	auditor := e.NewAuditor(t, "yz-auditor", "500103")
	yz, ad, au := authzNewBrowser(t, e), authzNewBrowser(t, e), authzNewBrowser(t, e)
	yz.setCookie("cqv_officer", officerToken(t, e, e.Maker))
	ad.setCookie("cqv_officer", officerToken(t, e, admin))
	au.setCookie("cqv_officer", officerToken(t, e, auditor))
	contacts := func() int64 { return e.Count(t, `SELECT COUNT(*) FROM district_contacts`) }
	form := func(hotline string) url.Values {
		return url.Values{"office_name": {"渝中区商务委员会"}, "hotline": {hotline}, "office_hours": {"工作日 9:00–17:30"}}
	}

	page := yz.do(t, http.MethodGet, "/officer/contacts", nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, `action="/officer/contacts/500103"`) || strings.Contains(page.body, `action="/officer/contacts/500105"`) {
		t.Fatalf("a district officer's contacts page: %d", page.status)
	}
	for _, bad := range []struct {
		name string
		form url.Values
		want string
	}{
		{"letters for a number", form("call us"), "请填写可拨打的电话号码"},
		{"too few digits", form("12"), "请填写可拨打的电话号码"},
		{"no office", url.Values{"hotline": {"12345"}, "office_hours": {"9-5"}}, "必填"},
		{"a line break", url.Values{"office_name": {"渝中区\n商务委"}, "hotline": {"12345"}, "office_hours": {"9-5"}}, "请写在一行内"},
		{"an over-long name", url.Values{"office_name": {strings.Repeat("商", 61)}, "hotline": {"12345"}, "office_hours": {"9-5"}}, "太长了"},
		{"a control character", url.Values{"office_name": {"渝中\x1b区"}, "hotline": {"12345"}, "office_hours": {"9-5"}}, "输入含有无效字符"},
	} {
		if p := yz.do(t, http.MethodPost, "/officer/contacts/500103", bad.form); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, bad.want) {
			t.Errorf("%s: %d, want 422 with %q", bad.name, p.status, bad.want)
		}
	}
	if n := contacts(); n != 0 {
		t.Fatalf("refused forms wrote %d contacts", n)
	}

	if p := yz.do(t, http.MethodPost, "/officer/contacts/500103", form("023-6380 0103 转 2")); p.status != http.StatusSeeOther {
		t.Fatalf("saving the own district's contact: %d %.300s", p.status, p.body)
	}
	if p := yz.do(t, http.MethodPost, "/officer/contacts/500105", form("023-67800105")); p.status != http.StatusNotFound {
		t.Errorf("another district's contact: %d, want 404", p.status)
	}
	if p := au.do(t, http.MethodPost, "/officer/contacts/500103", form("12345")); p.status != http.StatusForbidden {
		t.Errorf("an auditor writing a contact: %d, want 403", p.status)
	}
	if p := ad.do(t, http.MethodPost, "/officer/contacts/500105", url.Values{"office_name": {"江北区商务委员会"}, "hotline": {"(023)67800105"}, "office_hours": {"工作日"}}); p.status != http.StatusSeeOther {
		t.Errorf("the city admin writing 江北's contact: %d", p.status)
	}
	if n := contacts(); n != 2 {
		t.Fatalf("contacts = %d, want 2", n)
	}
	if p := yz.do(t, http.MethodGet, "/officer/contacts", nil); !strings.Contains(p.body, `value="023-6380 0103 转 2"`) {
		t.Error("the page does not show the stored hotline")
	}
	// A second edit is audited with the contact before and after.
	if p := yz.do(t, http.MethodPost, "/officer/contacts/500103", form("023-63800199")); p.status != http.StatusSeeOther {
		t.Fatalf("second edit: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'contact.update' AND district_code = '500103' AND actor = ?
		AND before_json LIKE '%6380 0103%' AND after_json LIKE '%63800199%'`, e.Maker.Username); n != 1 {
		t.Errorf("audit rows of the second edit: %d, want 1", n)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'contact.update'`); n != 3 {
		t.Errorf("contact.update rows: %d, want 3", n)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at.UTC()
}
