package web_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/web"
	"cqvoucher/db"
	"cqvoucher/templates"
)

// TestSignInRecordsConsent: signing in records, with the account, when the
// resident agreed and to which version of the texts; 我的信息, its API
// twin (the resident's data export) and the texts themselves say so.
func TestSignInRecordsConsent(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	version := e.App.Terms().Version
	if len(version) != 12 {
		t.Fatalf("terms version %q, want the texts' 12-digit digest", version)
	}
	r, tok := e.ResidentSession(t, "13812341234") // at 2026-11-25 10:00:00.25 in Shanghai
	if n := e.Count(t, `SELECT COUNT(*) FROM residents WHERE id = ? AND consent_version = ? AND consented_at IS NOT NULL`, r.ID, version); n != 1 {
		t.Fatalf("the account holds no consent to version %s", version)
	}
	me := e.API(t, http.MethodGet, "/api/v1/resident/me", tok, nil)
	consent, _ := me.Body["account"].(map[string]any)["consent"].(map[string]any)
	if me.Status != http.StatusOK || consent["version"] != version || consent["current"] != true ||
		consent["consented_at"] != e.Clock.Now().UTC().Format(time.RFC3339Nano) {
		t.Fatalf("GET /api/v1/resident/me: %d %s, want the consent to %s at %s", me.Status, me.Raw, version, e.Clock.Now().UTC().Format(time.RFC3339Nano))
	}
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_resident", tok)
	page := b.do(t, http.MethodGet, "/m/me", nil)
	if want := "您于 2026-11-25 10:00 同意了 用户协议 与 隐私政策（版本 " + version + "）"; !strings.Contains(page.body, want) {
		t.Errorf("我的信息 does not say %q:\n%.2000s", want, page.body)
	}
	// The consent page opened by a resident whose consent is current says
	// so, rather than that the texts changed.
	if got := b.do(t, http.MethodGet, "/m/consent", nil); !strings.Contains(got.body, "您已同意当前版本") || strings.Contains(got.body, "已更新") {
		t.Errorf("/m/consent with a current consent:\n%.1500s", got.body)
	}
	// The texts carry the version and name the organiser and the contact
	// the operator configured (the demo ones here).
	demo := app.DemoTerms()
	for _, p := range []string{"/m/terms", "/m/privacy"} {
		got := b.do(t, http.MethodGet, p, nil)
		for _, want := range []string{"版本：" + version, demo.Organiser, demo.Contact} {
			if !strings.Contains(got.body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
}

// TestTermsVersionIdentifiesTheTexts: the version is a digest of the texts
// as served, so changing a text, the organiser or the contact changes it,
// and a server whose App asks consent to other texts does not start.
func TestTermsVersionIdentifiesTheTexts(t *testing.T) {
	demo := app.DemoTerms()
	base, err := web.TermsVersion(templates.FS, demo)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := web.TermsVersion(templates.FS, demo); again != base {
		t.Fatalf("the version of the same texts changed: %s, %s", base, again)
	}
	edited := fstest.MapFS{}
	if err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(templates.FS, p)
		edited[p] = &fstest.MapFile{Data: body}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	zh := string(edited["i18n/zh.json"].Data)
	edited["i18n/zh.json"] = &fstest.MapFile{Data: []byte(strings.Replace(zh, "不可兑换现金", "不可兑换现金或积分", 1))}
	for name, v := range map[string]func() (string, error){
		"a text": func() (string, error) { return web.TermsVersion(edited, demo) },
		"the organiser": func() (string, error) {
			return web.TermsVersion(templates.FS, app.Terms{Organiser: "重庆市渝中区商务委员会", Contact: demo.Contact})
		},
		"the contact": func() (string, error) {
			return web.TermsVersion(templates.FS, app.Terms{Organiser: demo.Organiser, Contact: "023-6311 0000"})
		},
	} {
		if got, err := v(); err != nil || got == base {
			t.Errorf("changing %s leaves the version %s (%v)", name, got, err)
		}
	}
	e := apptest.New(t, apptest.Options{})
	stale := app.New(e.Store, e.Ring, e.SMS, func() app.Config { c := app.DefaultConfig(); c.Terms.Version = "0123456789ab"; return c }(), e.Clock.Now, nil)
	if _, err := web.New(stale, web.DefaultConfig(), templates.FS, nil, nil); err == nil || !strings.Contains(err.Error(), base) {
		t.Errorf("a server whose App asks consent to other texts started: %v", err)
	}
}

// TestChangedTermsAskForConsentBeforeClaiming: a resident whose consent on
// record is to older texts (or who has none on record) is refused a claim,
// on the page and in the API with the stable reason
// consent_renewal_required and the version in force, and nothing is
// written; once they agree again (page or API) the claim goes through.
func TestChangedTermsAskForConsentBeforeClaiming(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := e.LiveCampaign(t, apptest.CampaignSpec{})
	ctx := context.Background()
	version := e.App.Terms().Version
	older, err := web.TermsVersion(templates.FS, app.Terms{Organiser: "重庆消费券平台", Contact: "023-6000 0000"})
	if err != nil {
		t.Fatal(err)
	}
	apiResident, apiTok := e.ResidentSession(t, "13812340001")
	pageResident, pageTok := e.ResidentSession(t, "13812340002")
	if _, err := e.Store.RecordConsent(ctx, apiResident.ID, older); err != nil {
		t.Fatal(err)
	}
	// An account from before consents were recorded has none on record.
	if err := e.Store.BulkTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(`UPDATE residents SET consented_at = NULL, consent_version = NULL WHERE id = ?`, pageResident.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute + 150*time.Millisecond) // the cached accounts are read again

	claim := func() apptest.Response {
		return e.API(t, http.MethodPost, fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", c.ID), apiTok, map[string]any{"tier_id": c.Tiers[0].ID})
	}
	r := claim()
	if p, _ := r.Body["error"].(map[string]any)["params"].(map[string]any); r.Status != http.StatusForbidden || r.Reason() != "consent_renewal_required" || p["version"] != version {
		t.Fatalf("claim with consent to older texts: %d %s, want 403 consent_renewal_required with params.version %s", r.Status, r.Raw, version)
	}
	me := e.API(t, http.MethodGet, "/api/v1/resident/me", apiTok, nil)
	if consent := me.Body["account"].(map[string]any)["consent"].(map[string]any); consent["version"] != older || consent["current"] != false {
		t.Errorf("the export shows %v, want the consent to %s, not current", consent, older)
	}
	agree := func(body map[string]any) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/consent", apiTok, body)
	}
	if r := agree(map[string]any{"consent": false, "version": version}); r.Status != http.StatusUnprocessableEntity || r.Reason() != "consent_required" {
		t.Errorf("agreeing without consent: %d %s", r.Status, r.Raw)
	}
	if r := agree(map[string]any{"consent": true, "version": older}); r.Status != http.StatusConflict || r.Reason() != "terms_version_stale" {
		t.Errorf("agreeing to texts no longer in force: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM vouchers`) + e.Count(t, `SELECT COUNT(*) FROM residents WHERE consent_version = ?`, version); n != 0 {
		t.Fatalf("refusals wrote %d rows", n)
	}
	e.Clock.Advance(300 * time.Millisecond)
	r = agree(map[string]any{"consent": true, "version": version})
	if consent, _ := r.Body["consent"].(map[string]any); r.Status != http.StatusOK || consent["version"] != version || consent["current"] != true ||
		consent["consented_at"] != e.Clock.Now().UTC().Format(time.RFC3339Nano) {
		t.Fatalf("agreeing: %d %s", r.Status, r.Raw)
	}
	if r := claim(); r.Status != http.StatusCreated {
		t.Fatalf("claim after agreeing again: %d %s", r.Status, r.Raw)
	}

	// The page: the claim leads to the consent page and back.
	b := authzNewBrowser(t, e)
	b.setCookie("cqv_resident", pageTok)
	if p := b.do(t, http.MethodGet, "/m/me", nil); !strings.Contains(p.body, "尚无您同意 用户协议 与 隐私政策 的记录") {
		t.Errorf("我的信息 of an account without consent on record:\n%.2000s", p.body)
	}
	// The pages with 领取 buttons say so before the press, not at it.
	for _, path := range []string{"/m", fmt.Sprintf("/m/campaigns/%d", c.ID)} {
		if p := b.do(t, http.MethodGet, path, nil); !strings.Contains(p.body, `id="consent-due"`) || !strings.Contains(p.body, `href="/m/consent?back=`) {
			t.Errorf("%s does not ask for consent before the press:\n%.2000s", path, p.body)
		}
	}
	press := url.Values{"tier": {fmt.Sprint(c.Tiers[0].ID)}, "request_key": {"page-1"}}
	p := b.do(t, http.MethodPost, fmt.Sprintf("/m/campaigns/%d/claim", c.ID), press)
	if p.status != http.StatusSeeOther || p.location != "/m/consent?back=/m" {
		t.Fatalf("page claim without consent on record: %d to %q, want 303 to the consent page", p.status, p.location)
	}
	form := b.do(t, http.MethodGet, p.location, nil)
	for _, want := range []string{"当前版本（" + version + "）", `name="version" value="` + version + `"`, `<input type="checkbox" name="consent" value="1" required>`, `href="/m/terms"`, `href="/m/privacy"`} {
		if !strings.Contains(form.body, want) {
			t.Errorf("the consent page lacks %s", want)
		}
	}
	if p := b.do(t, http.MethodPost, "/m/consent", url.Values{"version": {version}, "back": {"/m"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "请先勾选同意") {
		t.Errorf("consent page without the tick: %d", p.status)
	}
	if p := b.do(t, http.MethodPost, "/m/consent", url.Values{"version": {older}, "consent": {"1"}, "back": {"/m"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "刚刚又有更新（版本 "+version+"）") {
		t.Errorf("consent page with a stale version: %d", p.status)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM residents WHERE id = ? AND consent_version IS NOT NULL`, pageResident.ID); n != 0 {
		t.Fatal("a refused consent was recorded")
	}
	p = b.do(t, http.MethodPost, "/m/consent", url.Values{"version": {version}, "consent": {"1"}, "back": {"/m"}})
	if p.status != http.StatusSeeOther || p.location != "/m" {
		t.Fatalf("agreeing on the page: %d to %q", p.status, p.location)
	}
	if p := b.do(t, http.MethodGet, "/m", nil); strings.Contains(p.body, `id="consent-due"`) {
		t.Error("/m still asks for consent after the resident agreed")
	}
	if p := b.do(t, http.MethodPost, fmt.Sprintf("/m/campaigns/%d/claim", c.ID), press); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/m/vouchers/") {
		t.Fatalf("page claim after agreeing: %d to %q", p.status, p.location)
	}
}
